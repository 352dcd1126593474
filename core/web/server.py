"""Serving the page: waitress, a production WSGI server in pure Python (no build step)."""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from flask import Flask
from waitress.server import create_server

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


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(server: Any, on_start: Callable[[str], None]) -> None:
    """Serve until Ctrl-C or SIGTERM (a service manager), then close: both are handled
    explicitly, since a server started from a script with ``&`` inherits SIGINT ignored."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {number: signal.signal(number, _stop) for number in STOP_SIGNALS}
    try:  # a signal right after the ready line is a clean stop too, not "Aborted!"
        on_start(f"http://{server.effective_host}:{server.effective_port}/")
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for number, handler in previous.items():
            signal.signal(number, handler)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
