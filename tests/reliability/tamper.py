"""Faults the stand-ins' own injection does not offer, as test-only middleware in them.

``Tamper(system)`` wraps the HitPay stand-in's ``respond`` and the Zoho Books stand-in's API
handler. Each rule hits the next ``times`` requests matching a side, a method and a path
pattern, before the stand-in does anything:

- ``status``: answer with an HTTP status (and for Zoho Books a JSON ``code``), e.g. 503;
- ``reset``: close the connection without an answer and without doing the request.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.standin.server import ZohoBooksStandIn

__all__ = ["Rule", "Tamper"]


@dataclass
class Rule:
    side: str  # hitpay | zoho
    action: str  # status | reset
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 500
    code: int | None = None

    def matches(self, side: str, method: str, path: str) -> bool:
        return (
            self.times > 0
            and self.side == side
            and self.method in (None, method)
            and (self.path is None or re.search(self.path, path) is not None)
        )


class _Reset(ConnectionAbortedError):
    """Raised inside a stand-in to end the connection without an answer."""


class Tamper:
    def __init__(self, hitpay: HitPayStandIn, zoho: ZohoBooksStandIn) -> None:
        self.rules: list[Rule] = []
        self.hits: list[tuple[str, str, str, str]] = []
        self._lock = threading.Lock()
        respond = hitpay.api.respond
        api = zoho._api

        def hitpay_respond(request: Request) -> Response:
            return self._apply("hitpay", request) or respond(request)

        def zoho_api(request: Request, environ: dict[str, Any]) -> Response:
            return self._apply("zoho", request) or api(request, environ)

        hitpay.api.respond = hitpay_respond  # type: ignore[method-assign]
        zoho._api = zoho_api  # type: ignore[method-assign]

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(rule.times for rule in self.rules)

    def _take(self, side: str, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(side, method, path):
                    rule.times -= 1
                    self.hits.append((side, method, path, rule.action))
                    return rule
        return None

    def _apply(self, side: str, request: Request) -> Response | None:
        path = request.path.removeprefix("/books/v3")
        rule = self._take(side, request.method, path)
        if rule is None:
            return None
        if rule.action == "reset":
            sock: socket.socket = request.environ["werkzeug.socket"]
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            raise _Reset("tampered: connection reset")
        if side == "zoho":
            body = {"code": rule.code if rule.code is not None else 1000, "message": "tampered"}
        else:
            body = {"message": "Server Error" if rule.status >= 500 else "Too Many Attempts."}
        return Response(json.dumps(body), status=rule.status, mimetype="application/json")
