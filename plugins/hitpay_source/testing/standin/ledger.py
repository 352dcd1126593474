"""The stand-in's business: its charges and refunds, listed and refunded as HitPay does.

Charges are listed newest first with keyset cursors (Laravel's ``cursorPaginate``), so a
charge inserted between two page reads is neither repeated nor skipped. ``date_from`` and
``date_to`` are read as dates in the business's time zone (HitPay does not document theirs).
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.api import BadRecord, parse_amount
from plugins.hitpay_source.testing.standin.shapes import listed, refund_payload, stamp

__all__ = ["DEFAULT_LISTED_STATUSES", "ChargeQuery", "Entry", "Ledger", "Unprocessable", "Variant"]

REFUNDABLE = frozenset({"succeeded", "partially_refunded"})
# The statuses HitPay's own example ``links.next`` shows for a list asked without a filter.
DEFAULT_LISTED_STATUSES = frozenset({"succeeded", "succeeded_manually", "refunded", "void"})


@dataclass
class Variant:
    """The answers public evidence leaves open (docs/vendor-facts.md), one switch each.

    ``partial_refund_status``: the status of a partly refunded charge: ``"succeeded"`` (HitPay's
    own code keeps it, the default) or ``"partially_refunded"`` (its OpenAPI filter enum).
    ``refunded_amount_listed``: list rows carry ``refunded_amount`` (detail only by default).
    ``default_status_filter``: a list asked without ``status``/``statuses[]`` shows only
    :data:`DEFAULT_LISTED_STATUSES` (off by default: every status is listed)."""

    partial_refund_status: str = "succeeded"
    refunded_amount_listed: bool = False
    default_status_filter: bool = False

    def __post_init__(self) -> None:
        if self.partial_refund_status not in ("succeeded", "partially_refunded"):
            raise ValueError(f"unknown partial_refund_status {self.partial_refund_status!r}")


class Unprocessable(Exception):
    """A request HitPay answers with 422 ``{"message", "errors": {field: [...]}}``."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {name: list(problems) for name, problems in errors.items()}
        first = next(iter(self.errors.values()))[0]
        more = sum(len(problems) for problems in self.errors.values()) - 1
        self.message = first + (f" (and {more} more error{'s' * (more > 1)})" if more else "")
        super().__init__(self.message)


@dataclass
class Entry:
    """One stored charge. ``listed_at`` is when it really happened (what the database sorts
    and filters on), whatever its payload says; ``hidden`` charges appear only once released."""

    seq: int
    payload: dict[str, Any]
    listed_at: datetime
    hidden: bool = False

    @property
    def charge_id(self) -> str | None:
        value = self.payload.get("id")
        return value if isinstance(value, str) else None

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.listed_at, self.seq)


@dataclass(frozen=True)
class ChargeQuery:
    per_page: int = 25
    after: tuple[datetime, int] | None = None
    statuses: frozenset[str] = field(default_factory=frozenset)
    date_from: date | None = None
    date_to: date | None = None
    equals: tuple[tuple[str, str], ...] = ()


def encode_cursor(entry: Entry) -> str:
    body = {
        "business_charges.created_at": entry.listed_at.astimezone(UTC).isoformat(),
        "business_charges.seq": entry.seq,
        "_pointsToNextItems": True,
    }
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(body["business_charges.created_at"])
        return moment, int(body["business_charges.seq"])
    except (ValueError, KeyError, TypeError):
        raise Unprocessable({"cursor": ["The cursor is invalid."]}) from None


class Ledger:
    """Thread-safe store of one business's charges and refunds."""

    def __init__(
        self,
        timezone: str,
        clock: Callable[[], datetime],
        rng: random.Random,
        variant: Variant | None = None,
    ) -> None:
        self.variant = variant or Variant()
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.rng = rng
        self.lock = threading.RLock()
        self._entries: list[Entry] = []
        self._ordered: list[Entry] = []  # ascending by (listed_at, seq)
        self._by_id: dict[str, Entry] = {}
        self._refunds: dict[str, tuple[Entry, dict[str, Any]]] = {}

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- charges -------------------------------------------------------------------------

    def add(self, payload: dict[str, Any], listed_at: datetime, hidden: bool = False) -> Entry:
        with self.lock:
            entry = Entry(len(self._entries) + 1, payload, listed_at, hidden)
            self._entries.append(entry)
            bisect.insort(self._ordered, entry, key=lambda item: item.order)
            if entry.charge_id is not None:
                self._by_id.setdefault(entry.charge_id, entry)
            return entry

    def find(self, charge_id: str, *, hidden: bool = False) -> Entry | None:
        with self.lock:
            entry = self._by_id.get(charge_id)
            return entry if entry is not None and (hidden or not entry.hidden) else None

    def entries(self) -> list[Entry]:
        with self.lock:
            return list(self._entries)

    def page(self, query: ChargeQuery) -> tuple[list[dict[str, Any]], str | None]:
        """One page of listed charges, newest first, and the next page's cursor.

        The rows share nested values with the store: serialize them under :attr:`lock`."""
        with self.lock:
            top = len(self._ordered)
            if query.after is not None:
                top = bisect.bisect_left(self._ordered, query.after, key=lambda item: item.order)
            rows: list[Entry] = []
            for index in range(top - 1, -1, -1):
                entry = self._ordered[index]
                if self._matches(entry, query):
                    rows.append(entry)
                    if len(rows) > query.per_page:
                        break
            more = len(rows) > query.per_page
            rows = rows[: query.per_page]
            cursor = encode_cursor(rows[-1]) if more else None
            return [self._row(entry.payload) for entry in rows], cursor

    def _row(self, payload: dict[str, Any]) -> dict[str, Any]:
        row = listed(payload)
        if self.variant.refunded_amount_listed and "refunded_amount" in payload:
            row["refunded_amount"] = payload["refunded_amount"]
        return row

    def _matches(self, entry: Entry, query: ChargeQuery) -> bool:
        if entry.hidden:
            return False
        statuses = query.statuses
        if not statuses and self.variant.default_status_filter:
            statuses = DEFAULT_LISTED_STATUSES
        if statuses and entry.payload.get("status") not in statuses:
            return False
        local = entry.listed_at.astimezone(self.zone).date()
        if (query.date_from and local < query.date_from) or (
            query.date_to and local > query.date_to
        ):
            return False
        return all(entry.payload.get(name) == value for name, value in query.equals)

    # -- refunds -------------------------------------------------------------------------

    def refund(self, charge_id: str, amount: object, at: datetime | None = None) -> dict[str, Any]:
        """Refund ``amount`` of a charge, as ``POST /v1/refund`` does (422 on bad input)."""
        with self.lock:
            entry = self.find(charge_id)
            if entry is None:
                raise Unprocessable({"payment_id": ["The selected payment id is invalid."]})
            payload = entry.payload
            if payload.get("status") not in REFUNDABLE:
                raise Unprocessable(
                    {
                        "payment_id": [
                            f"The charge is {payload.get('status')} and cannot be refunded."
                        ]
                    }
                )
            currency = str(payload["currency"]).upper()
            try:
                value = parse_amount(amount, currency)
            except BadRecord:
                raise Unprocessable({"amount": ["The amount must be a number."]}) from None
            remaining = Decimal(payload["amount"]) - Decimal(payload["refunded_amount"])
            if value <= 0:
                raise Unprocessable({"amount": ["The amount must be greater than 0."]})
            if value > remaining:
                raise Unprocessable(
                    {"amount": [f"The amount may not be greater than {remaining}."]}
                )
            moment = at or self.clock()
            refund = refund_payload(
                refund_id=self.new_id(), charge=payload, amount=value, at=moment
            )
            payload["refunds"].append(refund)
            payload["refunded_amount"] = Decimal(payload["refunded_amount"]) + value
            fully = payload["refunded_amount"] == Decimal(payload["amount"])
            payload["status"] = "refunded" if fully else self.variant.partial_refund_status
            payload["updated_at"] = stamp(moment.astimezone(self.zone))
            self._refunds[refund["id"]] = (entry, refund)
            return copy.deepcopy(refund)

    def refund_by_id(self, refund_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self._refunds.get(refund_id)
            return copy.deepcopy(found[1]) if found and not found[0].hidden else None

    def release(self, charge_ids: Iterable[str]) -> None:
        wanted = set(charge_ids)
        with self.lock:
            for entry in self._entries:
                if entry.charge_id in wanted:
                    entry.hidden = False
