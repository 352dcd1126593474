"""``ledgersync reconcile``: the three views of the clearing account, per currency.

- **gateway**: what the source holds for the merchant (its ``balances()``: available, pending,
  reserve), and what it has paid out since the sync began (the payouts fetched);
- **ledger**: what the clearing account must hold by the outbox: payments - fees - refund
  payments - transfers +/- adjustments, of everything planned (and of what was delivered);
- **books**: the clearing account's balance read back from the destination
  (``account_balance``), for the currency the account is kept in.

Each difference is explained: documents not delivered yet, payouts held or waiting, records
fetched but not planned yet, money the gateway holds that no payout has itemized yet, and a
remainder in the books that only a change made in the destination explains (``verify``).
It ties when every view agrees and nothing is left waiting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.contracts import AccountBalance, AccountSettings, GatewayBalance
from core.errors import LedgersyncError
from core.host import Host
from core.states import DocumentState
from core.store.clearing_records import (
    fetched_payouts,
    outbox_documents,
    unplanned_records,
    untransferred_payouts,
)
from core.store.repository import connection_info, get_connection, utcnow
from core.sync.payouts import HELD, plan_payout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.models import DocumentRow

__all__ = ["CurrencyView", "Reconciliation", "last_reconcile", "reconcile"]

LAST_KEY = "reconcile:last"

# How each delivered document moves the clearing account.
_SIGNS = {"payment": 1, "expense": -1, "credit_refund": -1, "transfer": -1}


def _effect(row: DocumentRow) -> Decimal:
    if row.kind == "adjustment":
        into = bool((row.body or {}).get("into_clearing", True))
        return row.amount if into else -row.amount
    return _SIGNS.get(row.kind, 0) * row.amount


@dataclass(slots=True)
class CurrencyView:
    """One currency: the three views and what explains their differences."""

    currency: str
    gateway: dict[str, str] | None = None  # wallet -> amount, None when the source cannot say
    gateway_total: Decimal | None = None
    paid_out: Decimal = Decimal(0)  # payouts fetched since the sync began
    ledger: Decimal = Decimal(0)  # everything planned
    delivered: Decimal = Decimal(0)  # what has reached the destination
    books: Decimal | None = None  # read back; None when not readable for this currency
    differences: list[str] = field(default_factory=list)
    # the differences only a person can settle (a payout held, the books changed): a scheduled
    # sync's reconcile sends a notice for each new one (``core/sync/watch.py``)
    alarms: list[str] = field(default_factory=list)

    @property
    def ties(self) -> bool:
        return not self.differences


@dataclass(slots=True)
class Reconciliation:
    connection: str
    at: datetime
    currencies: list[CurrencyView]
    notes: list[str] = field(default_factory=list)

    @property
    def ties(self) -> bool:
        return all(view.ties for view in self.currencies)

    @property
    def alarms(self) -> list[str]:
        """Every currency's differences that need a person, prefixed with the currency."""
        return [f"{view.currency}: {line}" for view in self.currencies for line in view.alarms]

    def to_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "at": self.at.isoformat(),
            "ties": self.ties,
            "notes": list(self.notes),
            "currencies": [
                {**{k: _plain(v) for k, v in asdict(view).items()}, "ties": view.ties}
                for view in self.currencies
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _ledger(session: Session, connection_id: int, views: dict[str, CurrencyView]) -> None:
    pending: dict[str, tuple[int, Decimal]] = {}
    for row in outbox_documents(session, connection_id):
        effect = _effect(row)
        view = views.setdefault(row.currency, CurrencyView(row.currency))
        view.ledger += effect
        if row.state == DocumentState.DELIVERED:
            view.delivered += effect
        elif effect:
            count, total = pending.get(row.currency, (0, Decimal(0)))
            pending[row.currency] = (count + 1, total + effect)
    for currency, (count, total) in pending.items():
        views[currency].differences.append(
            f"{count} document(s) not delivered yet move clearing by {total} {currency} "
            "(the next sync delivers them)"
        )


def _payouts(session: Session, connection_id: int, views: dict[str, CurrencyView]) -> None:
    """Payouts fetched (``paid_out``); held or waiting ones explained."""
    for row in fetched_payouts(session, connection_id):
        view = views.setdefault(row.currency, CurrencyView(row.currency))
        view.paid_out += row.amount
    for row in untransferred_payouts(session, connection_id):
        plan = plan_payout(session, connection_id, row)
        view = views[row.currency]
        why = (row.skip_reason or "").removeprefix(HELD) or (plan.waiting_for or "not planned yet")
        line = (
            f"payout {row.source_id} of {row.amount} {row.currency} not booked yet ({why}); "
            f"once booked it takes {plan.booked} {row.currency} out of clearing"
        )
        view.differences.append(line)
        if (row.skip_reason or "").startswith(HELD):
            view.alarms.append(line)


def _unplanned(session: Session, connection_id: int, views: dict[str, CurrencyView]) -> None:
    totals: dict[str, tuple[int, Decimal]] = {}
    for row in unplanned_records(session, connection_id):
        fee = row.fee if row.fee is not None and row.fee_currency == row.currency else 0
        effect = row.amount - fee if row.kind == "charge" else -row.amount
        count, total = totals.get(row.currency, (0, Decimal(0)))
        totals[row.currency] = (count + 1, total + effect)
    for currency, (count, total) in totals.items():
        view = views.setdefault(currency, CurrencyView(currency))
        view.differences.append(
            f"{count} record(s) fetched but not planned yet (a day still open) move clearing by "
            f"{total} {currency}"
        )


def _gateway(source: Any, views: dict[str, CurrencyView], notes: list[str]) -> None:
    read = getattr(source, "balances", None)
    if read is None:
        notes.append("the source cannot report its balances; its view is left out")
        return
    try:
        balances: Mapping[str, GatewayBalance] = read()
    except LedgersyncError as error:
        notes.append(f"the source's balances could not be read: {error}")
        return
    for currency, balance in balances.items():
        view = views.setdefault(currency, CurrencyView(currency))
        wallets = {"available": balance.available, "pending": balance.pending}
        wallets |= {"reserve": balance.reserve, **balance.other}
        view.gateway = {name: str(amount) for name, amount in wallets.items()}
        view.gateway_total = balance.total
    for view in views.values():
        if view.gateway_total is None:
            view.gateway_total = Decimal(0)
            view.gateway = {}
        gap = view.gateway_total - view.ledger
        if gap:
            view.differences.append(
                f"the gateway holds {view.gateway_total} {view.currency} but the ledger expects "
                f"{view.ledger}: {gap} {view.currency} is money no payout has itemized yet "
                "(sales outside the sync, adjustments, chargebacks, reserve, payouts the "
                "gateway does not list) or records and "
                "payouts still to book (see the lines above)"
            )


def _books(
    destination: Any, settings: AccountSettings, views: dict[str, CurrencyView], notes: list[str]
) -> None:
    """Each clearing account's balance: the default one, and one per currency where set."""
    read = getattr(destination, "account_balance", None)
    if read is None or not settings.bank_account:
        notes.append("the destination cannot report the clearing balance; its view is left out")
        return
    own = settings.by_currency("bank_account")
    for clearing in dict.fromkeys([settings.bank_account, *own.values()]):
        shared = [c for c in views if settings.account_for("bank_account", c) == clearing]
        _clearing(read, clearing, views, notes, shared)


def _clearing(
    read: Any, clearing: str, views: dict[str, CurrencyView], notes: list[str], shared: list[str]
) -> None:
    try:
        balance: AccountBalance = read(clearing)
    except LedgersyncError as error:
        notes.append(f"the clearing account's balance could not be read: {error}")
        return
    view = views.setdefault(balance.currency, CurrencyView(balance.currency))
    view.books = balance.balance
    if balance.balance != view.delivered:
        line = (
            f"the clearing account shows {balance.balance} {balance.currency} but the delivered "
            f"documents make it {view.delivered}: {balance.balance - view.delivered} "
            f"{balance.currency} was changed in the destination (run `ledgersync verify`)"
        )
        view.differences.append(line)
        view.alarms.append(line)
    for other in (views[c] for c in shared):
        if other.currency != balance.currency and other.ledger:
            notes.append(
                f"{other.currency}: the clearing account is kept in {balance.currency}, so its "
                f"{other.currency} part cannot be read back"
            )


def reconcile(host: Host, name: str, *, now: datetime | None = None) -> Reconciliation:
    """Compare the three views of ``name``'s clearing account and remember the outcome."""
    now = now or utcnow()
    with host.database.session() as session:
        row = get_connection(session, name)
        connection_id, info = row.id, connection_info(row)
    views: dict[str, CurrencyView] = {}
    notes: list[str] = []
    with host.database.session() as session:
        _ledger(session, connection_id, views)
        _payouts(session, connection_id, views)
        _unplanned(session, connection_id, views)
    source, source_calls = host.open_source(name)
    _gateway(source, views, notes)
    destination, destination_calls = host.open_destination(name)
    _books(destination, info.settings, views, notes)
    with host.database.session() as session:
        for calls in (source_calls, destination_calls):
            calls.flush(session, connection_id)
    result = Reconciliation(name, now, sorted(views.values(), key=lambda v: v.currency), notes)
    host.cache(connection_id).set(
        LAST_KEY,
        {
            "at": now.isoformat(),
            "ties": result.ties,
            "differences": sum(len(view.differences) for view in result.currencies),
            "alarms": result.alarms,
        },
    )
    return result


def last_reconcile(host: Host, connection_id: int) -> dict[str, Any] | None:
    """The last reconcile's time, whether it tied and how many differences it found."""
    value = host.cache(connection_id).get(LAST_KEY)
    return dict(value) if isinstance(value, Mapping) else None


def to_text(result: Reconciliation) -> list[str]:
    verdict = "ties out" if result.ties else "does NOT tie out"
    lines = [f"Reconcile of {result.connection}: {verdict}"]
    for view in result.currencies:
        gateway = ", ".join(f"{k} {v}" for k, v in (view.gateway or {}).items()) or "nothing held"
        books = "not readable" if view.books is None else str(view.books)
        lines.append(f"  {view.currency}:")
        lines.append(f"    gateway view: {gateway}; paid out since the sync began {view.paid_out}")
        lines.append(f"    ledger: clearing {view.ledger} (delivered {view.delivered})")
        lines.append(f"    books: clearing {books}")
        lines += [f"    - {line}" for line in view.differences]
    lines += [f"  note: {note}" for note in result.notes]
    return lines


def dumps(result: Reconciliation) -> str:
    return json.dumps(result.to_json(), indent=2, sort_keys=True)
