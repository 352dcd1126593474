"""The web app on a real port in a thread of the test, stopped cleanly.

A waitress server runs its loop in the thread; closing its sockets from the test's thread
pulls them out from under the loop's ``select`` (an EBADF warning, and a request in flight can
be cut). :func:`served_in_thread` asks the loop itself to close every socket it holds, waits
for ``run()`` to return, then stops the request threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from core.web.server import make_server

__all__ = ["served_in_thread", "stop_in_thread"]


def stop_in_thread(server: Any, thread: threading.Thread, timeout: float = 10) -> None:
    """Stop ``server`` whose ``run()`` is in ``thread``, from another thread."""

    def close_every_socket() -> None:  # runs in the server's own loop
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    server.trigger.pull_trigger(close_every_socket)
    thread.join(timeout=timeout)
    assert not thread.is_alive(), "the web server did not stop"
    server.task_dispatcher.shutdown()


@contextmanager
def served_in_thread(app: Flask, threads: int = 4) -> Iterator[str]:
    """``app`` served on a free port of 127.0.0.1; its base URL."""
    server = make_server(app, "127.0.0.1", 0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop_in_thread(server, thread)
