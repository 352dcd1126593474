"""The stand-in's wallet and payouts, as HitPay's backend builds them (docs/vendor-facts.md).

A sale credits its amount net of fees to the currency's wallet, a refund takes its full amount
back (HitPay keeps the fee), and an administrative adjustment adds or takes money. A payout
pays out the whole balance of one currency accumulated before its cut-off and is linked to
every wallet movement since the previous payout, not only to charges: so it settles charges
the sync never saw (created before it was enabled, or from unselected channels) as well.

With ``card_balance`` on (hitpay.payouts.two_balances), each currency has two payout streams:
card sales (and their refunds) go to the Card Balance, everything else to the HitPay Balance,
and each balance is paid out on its own. Whether ``GET /v1/payouts`` lists card payouts is not
known: ``card_payouts_listed`` switches it.

``GET /v1/payouts`` lists payouts newest first; ``/v1/payouts/{id}/charges`` lists the
charges one settled; ``GET /v1/balances`` is a bare array of ``{currency, wallets}``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from plugins.hitpay_source.testing.standin.ledger import Ledger, Unprocessable
from plugins.hitpay_source.testing.standin.shapes import listed, stamp

__all__ = ["Movement", "PayoutBook"]

_NAMES = {"hitpay": "balance", "card": "card balance"}
SALES = frozenset({"succeeded", "succeeded_manually", "partially_refunded", "refunded"})


@dataclass(frozen=True)
class Movement:
    """One wallet movement: a sale's net credit, a refund, or an adjustment."""

    kind: str  # charge | refund | adjustment
    source_id: str
    currency: str  # lower case, as HitPay writes it
    amount: Decimal  # signed
    at: datetime
    balance: str = "hitpay"  # hitpay | card (the Card Balance, with card_balance on)


@dataclass
class _Payout:
    payload: dict[str, Any]
    movements: list[Movement] = field(default_factory=list)
    balance: str = "hitpay"


def _number(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{index}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable({"cursor": ["The cursor is invalid."]}) from None


def page_of(rows: list[Any], per_page: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of ``rows`` and the next page's cursor (None on the last page)."""
    start = _decode(cursor) if cursor else 0
    end = start + per_page
    return rows[start:end], (_encode(end) if end < len(rows) else None)


class PayoutBook:
    """Wallet movements and payouts of the stand-in's business (under the ledger's lock)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._payouts: list[_Payout] = []
        self._settled: set[tuple[str, str]] = set()  # (kind, id) already paid out
        self._adjustments: list[Movement] = []
        self.status_of_new = "succeeded"
        # GET /v1/balances variants the evidence leaves open: a {data: [...]} wrapper, and
        # wallets dropped (pending, deposit are optional) or added (e.g. in_transit).
        self.balances_wrapped = False
        # GET /v1/payouts variants (its pagination is not documented): "cursor" (like every
        # other HitPay list), "pages" (Laravel page numbers) or "bare" (an array, no pages).
        self.listing_shape = "cursor"
        self.balances_drop: tuple[str, ...] = ()
        self.balances_extra: dict[str, Decimal] = {}
        # hitpay.payouts.two_balances: a HitPay Balance and a Card Balance per currency, each
        # with its own payouts; whether GET /v1/payouts lists the card ones is not known.
        self.card_balance = False
        self.card_payouts_listed = True
        self.on_paid: Callable[[dict[str, Any]], None] | None = None  # the payout.created webhook

    # -- movements -------------------------------------------------------------------------

    def movements(self) -> Iterator[Movement]:
        """Every movement the wallet holds, paid out or not."""
        for entry in self.ledger.entries():
            payload = entry.payload
            if entry.hidden or payload.get("status") not in SALES:
                continue
            net = _number(payload.get("amount")) - _number(payload.get("fixed_fee"))
            net -= _number(payload.get("discount_fee"))
            method = payload.get("payment_method")
            card = isinstance(method, dict) and method.get("name") == "card"
            balance = "card" if self.card_balance and card else "hitpay"
            yield Movement(
                "charge",
                str(payload["id"]),
                str(payload["currency"]),
                net,
                entry.listed_at,
                balance,
            )
            for refund in payload.get("refunds") or []:
                yield Movement(
                    "refund",
                    str(refund["id"]),
                    str(refund["currency"]),
                    -_number(refund["amount_refunded"]),
                    datetime.fromisoformat(str(refund["created_at"]).replace("Z", "+00:00")),
                    balance,
                )
        yield from self._adjustments

    def adjust(
        self, currency: str, amount: Decimal, at: datetime, description: str = "Adjustment"
    ) -> Movement:
        """An administrative top-up (positive) or deduction (negative) of the wallet."""
        with self.ledger.lock:
            movement = Movement("adjustment", self.ledger.new_id(), currency.lower(), amount, at)
            self._adjustments.append(movement)
            return movement

    def unsettled(self, currency: str, before: datetime, balance: str = "hitpay") -> list[Movement]:
        wanted = currency.lower()
        return [
            m
            for m in self.movements()
            if m.currency == wanted
            and m.balance == balance
            and m.at < before
            and (m.kind, m.source_id) not in self._settled
        ]

    # -- payouts ---------------------------------------------------------------------------

    def pay_out(
        self,
        currency: str,
        at: datetime,
        *,
        through: datetime | None = None,
        balance: str = "hitpay",
    ) -> dict[str, Any] | None:
        """Pay out the whole ``balance`` (hitpay or card) of ``currency`` accumulated before
        ``through`` (default ``at``) at ``at``; None when it is not positive (nothing is paid
        out)."""
        with self.ledger.lock:
            movements = self.unsettled(currency, through or at, balance)
            amount = sum((m.amount for m in movements), Decimal(0))
            if amount <= 0:
                return None
            local = at.astimezone(self.ledger.zone)
            payload: dict[str, Any] = {
                "id": self.ledger.new_id(),
                "currency": currency.lower(),
                "amount": amount,
                "status": self.status_of_new,
                "remark": f"Payout of {currency.upper()} {_NAMES[balance]}",
                "bank_name": "DBS Bank Ltd",
                "bank_account_number": "****4321",
                "created_at": stamp(local),
                "updated_at": stamp(local),
            }
            self._payouts.append(_Payout(payload, movements, balance))
            self._settled.update((m.kind, m.source_id) for m in movements)
            if self.on_paid is not None:
                self.on_paid(dict(payload))
            return dict(payload)

    def schedule(
        self, start: date, days: int, *, at: time = time(10, 0), next_day: bool = True
    ) -> list[dict[str, Any]]:
        """A daily payout per currency at ``at`` local time from ``start`` for ``days`` days,
        each paying out what was in the wallet before that day began (a next-day schedule), or
        with ``next_day=False`` everything up to the payout itself (HitPay's cut-off is not
        published: both are tested)."""
        made = []
        zone = self.ledger.zone
        with self.ledger.lock:
            currencies = sorted({m.currency for m in self.movements()})
            for offset in range(days):
                day = start + timedelta(days=offset)
                moment = datetime.combine(day, at, tzinfo=zone)
                midnight = datetime.combine(day, time(0), tzinfo=zone)
                for currency in currencies:
                    for balance in ("hitpay", "card") if self.card_balance else ("hitpay",):
                        cutoff = midnight if next_day else moment
                        payout = self.pay_out(currency, moment, through=cutoff, balance=balance)
                        if payout is not None:
                            made.append(payout)
        return made

    def edit(self, payout_id: str, *, drop: tuple[str, ...] = (), **fields: Any) -> None:
        """Change a payout as HitPay shows it (its status as it progresses, or a malformed
        field for a test); the money it settled stays settled."""
        with self.ledger.lock:
            payload = self._find(payout_id).payload
            payload.update(fields)
            for name in drop:
                payload.pop(name, None)

    def _find(self, payout_id: str) -> _Payout:
        for payout in self._payouts:
            if payout.payload["id"] == payout_id:
                return payout
        raise KeyError(payout_id)

    # -- what the API serves -----------------------------------------------------------------

    def listing(self) -> list[dict[str, Any]]:
        """Every payout ``GET /v1/payouts`` lists, newest first."""
        with self.ledger.lock:
            ordered = sorted(
                (p for p in self._payouts if self.card_payouts_listed or p.balance != "card"),
                key=lambda p: datetime.fromisoformat(p.payload["created_at"]),
                reverse=True,
            )
            return [dict(p.payload) for p in ordered]

    def payout(self, payout_id: str) -> dict[str, Any] | None:
        with self.ledger.lock:
            try:
                return dict(self._find(payout_id).payload)
            except KeyError:
                return None

    def movements_of(self, payout_id: str) -> list[Movement]:
        with self.ledger.lock:
            return list(self._find(payout_id).movements)

    def charges_of(self, payout_id: str) -> list[dict[str, Any]] | None:
        """The charges a payout settled, as ``GET /v1/charges`` lists them."""
        with self.ledger.lock:
            try:
                found = self._find(payout_id)
            except KeyError:
                return None
            rows = []
            for movement in found.movements:
                if movement.kind == "charge":
                    entry = self.ledger.find(movement.source_id)
                    if entry is not None:
                        rows.append(listed(entry.payload))
            return rows

    def balances(self, now: datetime) -> list[dict[str, Any]]:
        """``GET /v1/balances``: per currency, what is available (before today began, local
        time: it matured) and what is pending (today's)."""
        midnight = datetime.combine(
            now.astimezone(self.ledger.zone).date(), time(0), tzinfo=self.ledger.zone
        )
        with self.ledger.lock:
            totals: dict[str, list[Decimal]] = {}
            for m in self.movements():
                row = totals.setdefault(m.currency, [Decimal(0), Decimal(0)])
                if (m.kind, m.source_id) in self._settled or m.at >= now:
                    continue
                row[0 if m.at < midnight else 1] += m.amount
            rows = []
            for currency, (available, pending) in sorted(totals.items()):
                wallets = {
                    "available": available,
                    "pending": pending,
                    "reserve": Decimal(0),
                    "deposit": Decimal(0),
                    **self.balances_extra,
                }
                for name in self.balances_drop:
                    wallets.pop(name, None)
                rows.append({"currency": currency, "wallets": wallets})
            return rows
