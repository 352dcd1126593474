"""Stopping a sync dead at its k-th HTTP request, in process or as a real ``kill -9``.

In process, :class:`CrashAt` wraps the transport every client uses (``requests``'
``HTTPAdapter.send``: HitPay, the Zoho Books API and Zoho's accounts server alike) and counts
the requests of one sync. At request k it raises :class:`SimulatedCrash`, a BaseException no
``except Exception`` in the product catches, so nothing after that point runs:

- ``before_send``: the request never leaves; the remote side has seen nothing;
- ``after_commit``: the request is sent and the remote side commits it (a Zoho Books request
  is answered by closing the connection after the commit: the answer is lost), then the
  process dies before it can read or record any answer.

Out of process, :class:`Gate` is middleware in the stand-ins: it counts the requests reaching
either one, holds request k until the test has killed the ``ledgersync sync`` process with
SIGKILL, and then lets the stand-in commit it (``commit=True``) or refuse it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from werkzeug.wrappers import Request, Response

from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.standin.server import ZohoBooksStandIn

__all__ = ["WHEN", "CrashAt", "Gate", "SimulatedCrash"]

WHEN = ("before_send", "after_commit")


class SimulatedCrash(BaseException):
    """The process died here."""


class CrashAt:
    """``with CrashAt(k, when, zoho):`` count (and at k, crash) this thread's requests.

    ``k=None`` only counts. ``sent`` lists (method, url) of every request seen. With
    ``writes_only`` only writes to the Zoho Books API (POST, PUT, DELETE) count towards k."""

    def __init__(
        self,
        k: int | None,
        when: str = "before_send",
        zoho: ZohoBooksStandIn | None = None,
        *,
        writes_only: bool = False,
    ):
        assert when in WHEN
        assert zoho is not None or not writes_only
        self.k = k
        self.when = when
        self.zoho = zoho
        self.writes_only = writes_only
        self.counted = 0
        self.sent: list[tuple[str, str]] = []
        self.fired: tuple[str, str] | None = None
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> CrashAt:
        self._original = original = HTTPAdapter.send
        crash = self

        def send(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
            return crash._send(original, adapter, request, *args, **kwargs)

        HTTPAdapter.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        HTTPAdapter.send = self._original  # type: ignore[method-assign]

    def _send(
        self, original: Callable[..., Any], adapter: Any, request: Any, *a: Any, **kw: Any
    ) -> Any:
        what = (str(request.method), str(request.url).split("?")[0])
        self.sent.append(what)
        if not self.writes_only or self._is_zoho_write(what):
            self.counted += 1
        if self.k is None or self.counted != self.k or self.fired is not None:
            return original(adapter, request, *a, **kw)
        self.fired = what
        if self.when == "before_send":
            raise SimulatedCrash(f"crashed before sending request {self.k}: {what}")
        zoho = self.zoho
        if zoho is not None and str(request.url).startswith(zoho.api_url):
            zoho.faults.drop_after_commit(at=len(zoho.requests) + 1)
        try:
            original(adapter, request, *a, **kw)
        except Exception as error:
            raise SimulatedCrash(f"crashed after request {self.k} ({what}): {error!r}") from None
        raise SimulatedCrash(f"crashed after request {self.k} was answered: {what}")

    def _is_zoho_write(self, what: tuple[str, str]) -> bool:
        method, url = what
        assert self.zoho is not None
        return method in {"POST", "PUT", "DELETE"} and url.startswith(self.zoho.api_url)


class Gate:
    """Middleware in both stand-ins: counts requests; holds the k-th until :meth:`open`."""

    def __init__(self, k: int, hitpay: HitPayStandIn, zoho: ZohoBooksStandIn) -> None:
        self.k = k
        self.count = 0
        self.arrived = threading.Event()
        self.opened = threading.Event()
        self.commit = True
        self.held: str | None = None
        self._lock = threading.Lock()
        respond = hitpay.api.respond
        api = zoho._api

        def hitpay_respond(request: Request) -> Response:
            if self._hold(request) or self.commit:
                return respond(request)
            return Response('{"message":"Server Error"}', status=500, mimetype="application/json")

        def zoho_api(request: Request, environ: dict[str, Any]) -> Response:
            if self._hold(request) or self.commit:
                return api(request, environ)
            return Response('{"code":1000,"message":"Internal Error"}', status=500)

        hitpay.api.respond = hitpay_respond  # type: ignore[method-assign]
        zoho._api = zoho_api  # type: ignore[method-assign]

    def _hold(self, request: Request) -> bool:
        """Whether this request passes untouched (it is not the k-th)."""
        with self._lock:
            self.count += 1
            number = self.count
        if number != self.k:
            return True
        self.held = f"{request.method} {request.path}"
        self.arrived.set()
        self.opened.wait(timeout=60)
        return False

    def open(self, *, commit: bool) -> None:
        self.commit = commit
        self.opened.set()
