"""What sources produce: charges, refunds and payouts, exact and time-zone aware.

A source plugin turns its vendor's payloads into these. Anything that cannot become one
becomes a :class:`Quarantined` item carrying the reason and the raw payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.errors import BadRecord
from core.money import is_known_currency, quantize

__all__ = ["Charge", "Fetched", "Payout", "Quarantined", "Record", "Refund"]


def _check_currency(currency: str) -> None:
    if not is_known_currency(currency):
        raise BadRecord(f"unknown currency {currency!r}: expected an ISO 4217 code such as SGD")


def _check_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadRecord(f"{name} {moment.isoformat()} has no time zone offset")


def _check_amount(name: str, amount: Decimal, currency: str) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise BadRecord(f"{name} {amount!r} is not a finite Decimal")
    try:
        exact = quantize(amount, currency) == amount
    except ArithmeticError:  # more digits than Decimal arithmetic carries
        raise BadRecord(f"{name} {amount} is too large for {currency}") from None
    if not exact:
        raise BadRecord(f"{name} {amount} is not at {currency}'s precision")


@dataclass(frozen=True, slots=True)
class Charge:
    """A completed sale at the payment gateway.

    ``amount`` is the gross amount in ``currency``; ``fee`` is the gateway's fee in
    ``fee_currency``. ``channel`` is the taxonomy slug the user filters on, or ``None`` when the
    raw value (kept in ``raw_channel``) is unknown to the source's taxonomy.
    """

    source_id: str
    created_at: datetime
    currency: str
    amount: Decimal
    fee: Decimal
    fee_currency: str
    channel: str | None
    raw_channel: str | None = None
    description: str = ""
    exchange_rate: Decimal | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    kind = "charge"

    def __post_init__(self) -> None:
        if not self.source_id:
            raise BadRecord("charge has no id")
        _check_aware("created_at", self.created_at)
        _check_currency(self.currency)
        _check_currency(self.fee_currency)
        _check_amount("amount", self.amount, self.currency)
        _check_amount("fee", self.fee, self.fee_currency)
        if self.amount <= 0:
            raise BadRecord(f"charge amount {self.amount} is not positive")
        if self.fee < 0:
            raise BadRecord(f"charge fee {self.fee} is negative")

    @property
    def key(self) -> str:
        return f"charge:{self.source_id}"


@dataclass(frozen=True, slots=True)
class Refund:
    """Money returned to the customer of charge ``charge_id``; one record per refund."""

    source_id: str
    charge_id: str
    created_at: datetime
    currency: str
    amount: Decimal
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    kind = "refund"

    def __post_init__(self) -> None:
        if not self.source_id:
            raise BadRecord("refund has no id")
        if not self.charge_id:
            raise BadRecord("refund names no charge")
        _check_aware("created_at", self.created_at)
        _check_currency(self.currency)
        _check_amount("amount", self.amount, self.currency)
        if self.amount <= 0:
            raise BadRecord(f"refund amount {self.amount} is not positive")

    @property
    def key(self) -> str:
        return f"refund:{self.source_id}"


Record = Charge | Refund


@dataclass(frozen=True, slots=True)
class Payout:
    """A settlement from the gateway to the merchant's bank: ``amount`` of ``currency`` paid
    out at ``created_at``. ``charge_ids`` are the charges the gateway says it settles (with
    what each credited, net of fees, in ``charge_nets`` where the gateway shows it); the
    rest of the amount (refunds, adjustments, charges never synced) is worked out against the
    books when the payout is planned. ``raw`` keeps the payload as the gateway sent it."""

    source_id: str
    created_at: datetime
    currency: str
    amount: Decimal
    charge_ids: tuple[str, ...] = ()
    charge_nets: Mapping[str, Decimal] = field(default_factory=dict)  # as the gateway lists them
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    kind = "payout"

    def __post_init__(self) -> None:
        if not self.source_id:
            raise BadRecord("payout has no id")
        _check_aware("created_at", self.created_at)
        _check_currency(self.currency)
        _check_amount("amount", self.amount, self.currency)
        if self.amount <= 0:
            raise BadRecord(f"payout amount {self.amount} is not positive")

    @property
    def key(self) -> str:
        return f"payout:{self.source_id}"


Fetched = Charge | Refund | Payout  # everything a source yields besides quarantined payloads


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A payload the source could not turn into a record, with why and the raw data."""

    reason: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    source_id: str | None = None
    kind: str = "charge"
