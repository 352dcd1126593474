"""The browser's way back: a one-shot HTTP listener on 127.0.0.1 for the OAuth redirect."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LoopbackReceiver"]

CALLBACK_PATH = "/callback"
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>ledgersync</title></head>"
    "<body><p>{message}</p></body></html>"
)


class LoopbackReceiver:
    """Listens on 127.0.0.1 (a free port unless one is given) until the redirect arrives.

    It answers exactly one request on the callback path (anything else gets 404 and does not
    count) and then stops listening.
    """

    def __init__(self, port: int = 0) -> None:
        receiver = self
        self.query: dict[str, str] | None = None
        self._arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or receiver._arrived.is_set():
                    self.send_error(404)
                    return
                receiver.query = dict(parse_qsl(parts.query))
                ok = "code" in receiver.query and "error" not in receiver.query
                message = (
                    "Zoho Books answered; you can close this tab and return to the terminal."
                    if ok
                    else "Zoho Books did not grant access; see the terminal."
                )
                body = PAGE.format(message=message).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                receiver._arrived.set()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._serve, name="zoho-loopback", daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def _serve(self) -> None:
        self._server.timeout = 0.5
        while not self._arrived.is_set() and not self._closed:
            self._server.handle_request()

    def __enter__(self) -> LoopbackReceiver:
        self._closed = False
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._thread.join(timeout=2)
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The redirect's query parameters, or None when nothing came in ``timeout`` seconds."""
        self._arrived.wait(timeout)
        return self.query
