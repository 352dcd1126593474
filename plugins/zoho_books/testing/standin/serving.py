"""The stand-in's HTTP plumbing: a quiet werkzeug server in a thread, a dropped connection,
and the accounts server's three endpoints (the rules are in ``oauth.py``)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from plugins.zoho_books.testing.standin.envelope import Dropped, json_answer
from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.oauth import OAuthServer

__all__ = [
    "RecordedRequest",
    "accounts_response",
    "drop_connection",
    "fault_answer",
    "serve_in_thread",
]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    number: int
    method: str
    path: str  # below /books/v3
    query: dict[str, str]
    headers: dict[str, str]  # Authorization redacted
    body: Any
    organization_id: str | None
    at: datetime  # the stand-in's clock when it arrived


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


def serve_in_thread(app: Callable[..., Any]) -> tuple[BaseWSGIServer, threading.Thread]:
    """``app`` served on 127.0.0.1 at a free port, from a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="zoho-standin",
        daemon=True,
    )
    thread.start()
    return server, thread


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the request's connection without an answer."""
    sock: socket.socket = environ["werkzeug.socket"]
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    raise Dropped("stand-in dropped the connection")


def accounts_response(
    oauth: OAuthServer, request: Request, now: datetime, lock: threading.RLock
) -> Response:
    """``/oauth/v2/auth`` (a redirect with a code), ``/oauth/v2/token`` and its ``/revoke``."""
    form = {k: v for k, v in request.form.items()}
    if request.path == "/oauth/v2/auth" and request.method == "GET":
        try:
            with lock:
                location = oauth.authorize(dict(request.args), now)
        except ApiError as error:
            return Response(error.message, status=400, mimetype="text/plain")
        return Response("", status=302, headers={"Location": location})
    if request.path == "/oauth/v2/token" and request.method == "POST":
        with lock:
            status, body = oauth.token(form, now)
        return json_answer(status, body)
    if request.path == "/oauth/v2/token/revoke" and request.method == "POST":
        with lock:
            status, body = oauth.revoke_answer(request.args.get("token", ""))
        return json_answer(status, body)
    return Response("Not Found", status=404, mimetype="text/plain")


def fault_answer(
    fault: str | None, environ: dict[str, Any], stopping: threading.Event, hold_seconds: float
) -> Response | None:
    """The answer of a fault that stops a request before it is done (``faults.py``), if any:
    an error, a throttle, or a timeout (held, then dropped)."""
    if fault == "error":
        return json_answer(500, {"code": 1000, "message": "Internal Error"})
    if fault and fault.startswith("throttle:"):
        code = fault.removeprefix("throttle:")
        if not code:
            return Response(b"", status=429)
        message = "You have made too many requests. Please try again after some time."
        return json_answer(429, {"code": int(code), "message": message})
    if fault == "timeout":
        stopping.wait(hold_seconds)
        drop_connection(environ)
    return None
