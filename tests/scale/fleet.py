"""A fleet of small businesses for scale tests and benchmarks.

Each business is a HitPay stand-in of its own (one API key, a few charges), all served by one
HTTP server on 127.0.0.1 under ``/b<n>``, and an organization of its own in one Zoho Books
stand-in. ``latency`` adds a fixed delay to every API answer on both sides (simulated network
and vendor time; only benchmarks use it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from support.pairs import settings_from
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from core.connections.lifecycle import enable
from core.connections.settings import change_settings
from core.connections.setup import connect_source
from core.host import Host
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.kit import FAST_RETRIES
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
from plugins.zoho_books.testing.standin import ZohoBooksStandIn

__all__ = ["Fleet", "SlowZohoBooksStandIn", "yesterday_noon"]

TIMEZONE = "Asia/Singapore"
PER_MINUTE = 100_000  # local stand-ins: Zoho's 100/minute is tested in tests/zoho
BUSINESSES_PER_ZOHO_CLIENT = 20


def yesterday_noon(now: datetime) -> datetime:
    """Noon of the business day before ``now`` in the fleet's time zone: a closed day whatever
    the hour, with twelve hours of margin on each side for sales and their refunds."""
    zone = ZoneInfo(TIMEZONE)
    day = now.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day, clock_time(12), tzinfo=zone)


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        return


class SlowZohoBooksStandIn(ZohoBooksStandIn):
    """The Zoho Books stand-in, every Books API answer ``latency`` seconds late."""

    latency: float = 0.0

    def _api_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.latency:
            time.sleep(self.latency)  # simulated vendor latency, in the server's thread
        return super()._api_app(environ, start_response)


class _Latency:
    def __init__(self, app: Any, latency: float) -> None:
        self.app, self.latency = app, latency

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.latency:
            time.sleep(self.latency)
        return self.app(environ, start_response)


class Fleet:
    """``count`` businesses named ``<prefix>000``, ``<prefix>001``, ... ."""

    def __init__(self, count: int, *, prefix: str = "shop-", latency: float = 0.0) -> None:
        self.names = [f"{prefix}{n:03d}" for n in range(count)]
        self.hitpay = {
            name: HitPayStandIn(timezone=TIMEZONE, id_seed=n) for n, name in enumerate(self.names)
        }
        # Zoho keeps at most 20 refresh tokens per client and user (the 21st revokes the
        # oldest): one stand-in, with its own client, per 20 businesses.
        self.zoho_kits = [
            ZohoBooksStandInKit(SlowZohoBooksStandIn(per_minute=PER_MINUTE, seed=False))
            for _ in range(0, count, BUSINESSES_PER_ZOHO_CLIENT)
        ]
        for kit in self.zoho_kits:
            kit.standin.latency = latency  # type: ignore[attr-defined]
        mounts = {f"/b{n}": self.hitpay[name].api for n, name in enumerate(self.names)}
        self._app = _Latency(DispatcherMiddleware(_not_found, mounts), latency)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Fleet:
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        for n, name in enumerate(self.names):
            self.hitpay[name].api.root = self.hitpay_url(n)
        for kit in self.zoho_kits:
            kit.standin.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for standin in self.hitpay.values():
            standin.release_slow()
        for kit in self.zoho_kits:
            kit.standin.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def zoho(self, name: str) -> ZohoBooksStandInKit:
        """The Zoho Books stand-in (kit) that holds business ``name``'s organization."""
        return self.zoho_kits[self.names.index(name) // BUSINESSES_PER_ZOHO_CLIENT]

    def hitpay_url(self, n: int) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/b{n}"

    def seed(self, when: datetime, charges: int = 2, refunds: int = 1) -> None:
        """``charges`` sales per business at ``when`` (one second apart), the first
        ``refunds`` of them partly refunded an hour later."""
        for standin in self.hitpay.values():
            for i in range(charges):
                charge = standin.add_charge(
                    amount=Decimal("25.00") + i, created_at=when + timedelta(seconds=i)
                )
                if i < refunds:
                    standin.refund(charge["id"], Decimal("5.00"), at=when + timedelta(hours=1))

    def connect(
        self, host: Host, *, since: datetime, now: datetime, modes: Iterable[str] = ("bulk",)
    ) -> None:
        """Connect every business to its own organization, map its accounts, enable sync."""
        mode_cycle = list(modes)
        for n, name in enumerate(self.names):
            standin = self.hitpay[name]
            connect_source(
                host,
                name,
                source="hitpay",
                source_account=key_fingerprint(standin.api_key),
                config={"api_url": self.hitpay_url(n), **FAST_RETRIES},
                secrets={"api_key": standin.api_key},
                timezone=TIMEZONE,
            )
            accounts = self.zoho(name).connect(host, name)
            mode = mode_cycle[n % len(mode_cycle)]
            change_settings(host, name, settings_from(accounts, mode=mode))
            enable(host, name, since=since, now=now)

    def documents(self, name: str) -> list[dict[str, Any]]:
        """What the business's organization holds, one dict per document."""
        return [dict(row) for row in self.zoho(name).books(name)]


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"message": "no such business"}']
