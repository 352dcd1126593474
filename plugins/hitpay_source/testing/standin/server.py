"""``HitPayStandIn``: a HitPay API on 127.0.0.1 for tests, the demo and plugin authors.

with HitPayStandIn() as hitpay:
    hitpay.seed(7, date(2026, 1, 1), days=14, timezone="Asia/Singapore")
    hitpay.fail_next(2, status=429)
    ...  # point a client at hitpay.url with hitpay.api_key
"""

from __future__ import annotations

import copy
import random
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from core.api import BadRecord, to_decimal
from core.api import clock as wall_clock
from plugins.hitpay_source.testing.standin.api import HitPayApi, RecordedRequest
from plugins.hitpay_source.testing.standin.faults import MALFORMED_BODIES, Fault, FaultQueue
from plugins.hitpay_source.testing.standin.ledger import Ledger, Variant
from plugins.hitpay_source.testing.standin.payouts import PayoutBook
from plugins.hitpay_source.testing.standin.seed import fees_for, plan_seed
from plugins.hitpay_source.testing.standin.shapes import charge_payload, stamp
from plugins.hitpay_source.testing.standin.webhooks import WebhookSender, webhook_shape

__all__ = ["HitPayStandIn"]

_BUILDER_FIELDS = {"customer_id", "customer", "order_reference_number", "remark"}


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        return


class HitPayStandIn:
    """A faithful HitPay API server on a free port of 127.0.0.1, run in a thread.

    ``timezone`` is the business's: charge timestamps carry its offset and ``date_from`` /
    ``date_to`` are read in it. ``clock`` gives "now" for charges and refunds made without a
    time. ``max_per_page`` is the largest ``per_page`` accepted (HitPay does not publish it).
    ``variant`` picks the answers the evidence leaves open (see :class:`Variant`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        timezone: str = "Asia/Singapore",
        home_currency: str = "sgd",
        max_per_page: int = 100,
        clock: Callable[[], datetime] | None = None,
        id_seed: int = 0,
        variant: Variant | None = None,
    ) -> None:
        self.api_key = api_key or secrets.token_hex(32)
        self.home_currency = home_currency
        self.variant = variant or Variant()
        self.ledger = Ledger(
            timezone, clock or wall_clock.now, random.Random(id_seed), self.variant
        )
        self.faults = FaultQueue()
        self.api = HitPayApi(self.ledger, self.faults, self.api_key, max_per_page)
        self.webhooks = WebhookSender()
        self.api.payouts.on_paid = partial(self.webhooks.emit, "payout", "created")
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"HitPayStandIn({self.url if self._server else 'stopped'}, <key hidden>)"

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> HitPayStandIn:
        if self._server is None:
            server = make_server(
                "127.0.0.1", 0, self.api, threaded=True, request_handler=_QuietHandler
            )
            self._server = server
            self.api.root = self.url
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.release_slow()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> HitPayStandIn:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root (``http://127.0.0.1:PORT``); clients append ``/v1/...``."""
        if self._server is None:
            raise RuntimeError("the HitPay stand-in is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def timezone(self) -> str:
        return str(self.ledger.zone)

    # -- data ----------------------------------------------------------------------------

    def seed(
        self,
        seed: int,
        start: date,
        days: int,
        timezone: str | None = None,
        *,
        per_day: int = 12,
    ) -> list[dict[str, Any]]:
        """Add ``days`` days of realistic charges from ``start`` (same seed, same data) and
        apply their refunds. ``timezone`` becomes the business's time zone. Returns the
        charges as ``GET /v1/charges/{id}`` shows them, refunds included."""
        if timezone:
            self.ledger.zone = ZoneInfo(timezone)
        created = []
        for planned in plan_seed(seed, start, days, self.timezone, per_day):
            charge = self.add_charge(**planned.fields)
            for amount, moment in planned.refunds:
                self.refund(charge["id"], amount, at=moment)
            created.append(charge["id"])
        return [self.charge(charge_id) for charge_id in created]

    def add_charge(
        self,
        *,
        hidden: bool = False,
        drop: Iterable[str] = (),
        listed_at: datetime | None = None,
        method: str = "visa",
        **fields: Any,
    ) -> dict[str, Any]:
        """Add one charge; any HitPay field may be given (``amount=Decimal("12.50")``,
        ``currency="jpy"``, ``created_at=<aware datetime or raw string>``, ``channel=...``).

        Defaults make a realistic SGD card sale now. Values are sent as given, so a string
        amount goes out as a JSON string: that is how to build malformed charges, along with
        ``drop`` (fields to leave out). ``listed_at`` is when the charge really happened (for
        sorting and date filters) when ``created_at`` is not a readable timestamp.
        ``hidden`` charges stay invisible until :meth:`release`."""
        created = fields.get("created_at")
        if isinstance(created, datetime):
            moment = created
        else:
            moment = self.ledger.clock().astimezone(self.ledger.zone)
        if listed_at is None:
            listed_at = created if isinstance(created, datetime) else _readable(created) or moment
        amount = _decimal_or(fields.get("amount"), Decimal("10.00"))
        currency = fields.get("currency", "sgd")
        fee_currency = currency if isinstance(currency, str) and len(currency) == 3 else "sgd"
        fixed, discount, rate = _fees(amount, fee_currency, method)
        payload = charge_payload(
            charge_id=self.ledger.new_id(),
            amount=amount,
            currency="sgd",
            created_at=moment,
            status="succeeded",
            channel="api_link",
            fixed_fee=fixed,
            discount_fee=discount,
            discount_fee_rate=rate,
            method=method,
            customer_id=self.ledger.new_id(),
            customer={
                "name": "Tan Ah Kow",
                "email": "ahkow@example.com",
                "phone_number": "6591234567",
            },
            home_currency=self.home_currency,
            order_reference_number=str(1000 + len(self.ledger.entries())),
        )
        for name, value in fields.items():
            payload[name] = stamp(value) if isinstance(value, datetime) else value
        numbers = [payload.get(k) for k in ("amount", "fixed_fee", "discount_fee")]
        exact = [Decimal(str(v)) for v in numbers if _is_number(v)]
        if len(exact) == 3:
            payload["amount_without_fees"] = exact[0] - exact[1] - exact[2]
        for name in drop:
            payload.pop(name, None)
        self.ledger.add(payload, listed_at, hidden)
        if not hidden and payload.get("status") == "succeeded":
            self.webhooks.emit("charge", "created", webhook_shape(payload))
        return copy.deepcopy(payload)

    def refund(
        self, charge_id: str, amount: Decimal | int | str, at: datetime | None = None
    ) -> dict[str, Any]:
        """Refund part or all of a charge, exactly as ``POST /v1/refund`` does. Raises
        ``Unprocessable`` (the 422 the API would send) on a bad id or amount."""
        refund = self.ledger.refund(charge_id, amount, at)
        self.webhooks.emit("charge", "updated", webhook_shape(self.charge(charge_id)))
        return refund

    def release(self, *charge_ids: str) -> None:
        """Make hidden charges visible: they appear late, with their original created_at."""
        self.ledger.release(charge_ids)
        for charge_id in charge_ids:
            self.webhooks.emit("charge", "created", webhook_shape(self.charge(charge_id)))

    def charge(self, charge_id: str) -> dict[str, Any]:
        """The charge as ``GET /v1/charges/{id}`` shows it (amounts as Decimal)."""
        entry = self.ledger.find(charge_id, hidden=True)
        if entry is None:
            raise KeyError(charge_id)
        with self.ledger.lock:
            return copy.deepcopy(entry.payload)

    def charges(self) -> list[dict[str, Any]]:
        """Every charge, hidden ones included, in insertion order."""
        with self.ledger.lock:
            return [copy.deepcopy(entry.payload) for entry in self.ledger.entries()]

    # -- payouts (plugins/hitpay_source/testing/standin/payouts.py) ------------------------

    @property
    def payouts(self) -> PayoutBook:
        """The wallet and its payouts: ``pay_out``, ``schedule``, ``adjust``, ``balances``."""
        return self.api.payouts

    # -- faults --------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, status: int = 500, *, retry_after: str | None = None, path: str = "/v1/"
    ) -> None:
        """Answer the next ``n`` requests (under ``path``) with ``status`` (429, 500, 503...),
        with a ``Retry-After`` header when given."""
        self.faults.add(Fault("status", n, path, status=status, retry_after=retry_after))

    def slow_next(self, n: int = 1, delay: float | None = None, *, path: str = "/v1/") -> None:
        """Hold the next ``n`` answers for ``delay`` seconds, or until :meth:`release_slow`
        (or :meth:`stop`) when ``delay`` is None; then answer normally."""
        self.faults.add(Fault("slow", n, path, delay=delay))

    def release_slow(self) -> None:
        self.faults.release_slow()

    def malformed_next(
        self, n: int = 1, body: str = "truncated", *, path: str = "/v1/", status: int = 200
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (200 unless told) and a broken body:
        ``truncated`` JSON, an ``html`` error page, an ``empty`` body or ``not_json`` text."""
        if body not in MALFORMED_BODIES:
            raise ValueError(f"unknown malformed body {body!r}: one of {sorted(MALFORMED_BODIES)}")
        self.faults.add(Fault("malformed", n, path, status=status, body=body))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far (method, path, query, status), oldest first."""
        return list(self.api.requests)

    def clear_requests(self) -> None:
        self.api.requests.clear()


def _fees(amount: Decimal, currency: str, method: str) -> tuple[Decimal, Decimal, Decimal]:
    """HitPay's fees for the sale; for an unknown currency as in SGD, and for an amount too
    large to price (hostile-input tests) those of a plain sale."""
    for price, code in ((amount, currency), (amount, "sgd"), (Decimal("10.00"), "sgd")):
        try:
            return fees_for(price, code, method)
        except (BadRecord, ArithmeticError):
            continue
    raise AssertionError("unreachable: a plain SGD sale always has fees")


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


def _decimal_or(value: object, default: Decimal) -> Decimal:
    try:
        return to_decimal(value) if value is not None else default
    except BadRecord:
        return default


def _readable(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
