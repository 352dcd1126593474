"""Serving the page: waitress, a production WSGI server in pure Python (no build step)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress.server import create_server

from core.sync.interruption import interrupts_on_signals

__all__ = ["is_loopback", "make_server"]

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> Any:
    """A waitress server bound to ``host:port`` (port 0: any free one; see ``.effective_port``).
    Call ``.run()`` to serve until stopped, ``.close()`` to stop."""
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="ledgersync",
        clear_untrusted_proxy_headers=True,
    )


def serve_forever(server: Any, on_start: Callable[[str], None]) -> None:
    """Serve until Ctrl-C or SIGTERM (a service manager), then close: both are handled
    explicitly, since a server started from a script with ``&`` inherits SIGINT ignored."""
    with interrupts_on_signals():
        try:  # a signal right after the ready line is a clean stop too, not "Aborted!"
            on_start(f"http://{server.effective_host}:{server.effective_port}/")
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
