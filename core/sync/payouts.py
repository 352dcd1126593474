"""Payouts -> transfers: the clearing account paid out into the merchant's bank account.

Each payout becomes one :class:`Transfer` of its full amount on its business-local date (so it
matches the deposit on the bank statement), key ``<source>:payout:<id>``. A payout settles
whatever the gateway held: the part ledgersync booked into clearing (its charges net of fees,
less the refunds booked since the previous payout) and maybe more or less (charges from before
the sync was enabled, unselected channels, adjustments, chargebacks). That difference is
itemized into one :class:`Adjustment` against the account the user chose; without one, or
without a payout account, the payout is held with the reason (``held: ...`` as its skip
reason) and looked at again on every sync. A payout whose charges or refunds are not planned
yet waits. Everything is written with the caller's session, in the planner's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core.contracts import AccountSettings
from core.documents import Adjustment, Document, Transfer
from core.mapping.keys import fit_key, local_date
from core.store.outbox import OutboxWriter
from core.store.payout_records import (
    connection_by_id,
    open_payouts,
    payout_charges,
    previous_payout_at,
    refunds_until,
    set_skip_reason,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.models import SourceRecord

__all__ = ["HELD", "PayoutOutcome", "PayoutPlan", "payout_key", "plan_payout", "plan_payouts"]

HELD = "held: "  # skip-reason prefix of a payout that waits for a person


def payout_key(source: str, payout_id: str) -> str:
    return fit_key(f"{source}:payout:", payout_id, len(":adjustment"))


@dataclass(slots=True)
class PayoutOutcome:
    """What one pass did: documents planned per kind, payouts held (id -> reason), waiting."""

    documents: Counter[str] = field(default_factory=Counter)
    held: dict[str, str] = field(default_factory=dict)
    waiting: int = 0
    planned: list[Document] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PayoutPlan:
    """One payout worked out against the books."""

    payout_id: str
    currency: str
    amount: Decimal
    booked: Decimal  # what ledgersync booked into clearing that this payout settles
    items: tuple[str, ...]  # what it never booked, one line each
    waiting_for: str | None = None  # a charge or refund not planned yet

    @property
    def unbooked(self) -> Decimal:
        return self.amount - self.booked


def _net(row: SourceRecord) -> Decimal:
    fee = row.fee if row.fee is not None and row.fee_currency == row.currency else Decimal(0)
    return row.amount - fee


def plan_payout(session: Session, connection_id: int, payout: SourceRecord) -> PayoutPlan:
    """Work out what of ``payout`` the books hold (read only)."""
    payload = payout.payload or {}
    charge_ids = [str(c) for c in payload.get("charge_ids") or []]
    nets: Mapping[str, Any] = payload.get("charge_nets") or {}
    booked = Decimal(0)
    items: list[str] = []
    waiting: str | None = None
    found = payout_charges(session, connection_id, charge_ids)
    itemized = Decimal(0)  # the part of the unbooked amount the lines above account for
    for charge_id in charge_ids:
        stored = found.get(charge_id)
        if stored is None:
            listed = nets.get(charge_id)
            what = f"{listed} {payout.currency}" if listed is not None else "amount unknown"
            items.append(f"charge {charge_id} never synced (before the sync was enabled?): {what}")
            itemized += Decimal(listed) if listed is not None else Decimal(0)
            continue
        row, planned = stored
        if planned:
            booked += _net(row)
        elif row.skip_reason is None:
            waiting = waiting or f"charge {charge_id} is not planned yet"
        else:
            items.append(f"charge {charge_id} not synced ({row.skip_reason}): {_net(row)}")
            itemized += _net(row)
    previous = previous_payout_at(session, connection_id, payout)
    refunds = refunds_until(session, connection_id, payout.currency, payout.created_at, previous)
    for row, planned in refunds:
        if planned:
            booked -= row.amount
        elif row.skip_reason is None:
            waiting = waiting or f"refund {row.source_id} is not planned yet"
    other = payout.amount - booked - itemized
    if other and waiting is None:
        items.append(
            f"other movements (refunds of charges not synced, adjustments, chargebacks): {other}"
        )
    return PayoutPlan(
        payout.source_id, payout.currency, payout.amount, booked, tuple(items), waiting
    )


def _hold_reason(plan: PayoutPlan, settings: AccountSettings, name: str) -> str | None:
    if not settings.account_for("payout_account", plan.currency):
        if settings.by_currency("payout_account"):
            return (
                f"{HELD}no payout account for {plan.currency}: set one with "
                f"`ledgersync settings {name} --payout-account {plan.currency}=ID`"
            )
        return (
            f"{HELD}no payout account set: set it with "
            f"`ledgersync settings {name} --payout-account ID`"
        )
    if plan.unbooked and not settings.adjustment_account:
        return (
            f"{HELD}payout {plan.payout_id} of {plan.amount} {plan.currency} holds "
            f"{plan.unbooked} {plan.currency} ledgersync never booked ({'; '.join(plan.items)}): "
            f"choose where it goes with `ledgersync settings {name} --adjustment-account ID`"
        )
    return None


def _documents(plan: PayoutPlan, source: str, moment: datetime, zone: ZoneInfo) -> list[Document]:
    key = payout_key(source, plan.payout_id)
    day = local_date(moment, zone)
    documents: list[Document] = []
    if plan.unbooked:
        documents.append(
            Adjustment(
                key=f"{key}:adjustment",
                date=day,
                currency=plan.currency,
                amount=abs(plan.unbooked),
                record_ids=(plan.payout_id,),
                description=f"Payout {plan.payout_id}: not booked through the sync",
                into_clearing=plan.unbooked > 0,
                items=plan.items,
            )
        )
    documents.append(
        Transfer(
            key=key,
            date=day,
            currency=plan.currency,
            amount=plan.amount,
            record_ids=(plan.payout_id,),
            description=f"Payout {plan.payout_id}",
        )
    )
    return documents


def plan_payouts(
    session: Session,
    connection_id: int,
    settings: AccountSettings,
    now: datetime,
    *,
    run_id: int | None = None,
    dry_run: bool = False,
) -> PayoutOutcome:
    """Plan a transfer (and an adjustment where needed) for every open payout."""
    session.flush()
    connection = connection_by_id(session, connection_id)
    zone = ZoneInfo(connection.timezone)
    outcome = PayoutOutcome()
    rows: Sequence[SourceRecord] = open_payouts(session, connection_id, HELD)
    writer = OutboxWriter(session.connection(), connection_id, connection.mode, now, run_id)
    for row in rows:
        plan = plan_payout(session, connection_id, row)
        if plan.waiting_for is not None:
            outcome.waiting += 1
            continue
        reason = _hold_reason(plan, settings, connection.name)
        if reason is not None:
            outcome.held[row.source_id] = reason.removeprefix(HELD)
            if not dry_run and row.skip_reason != reason:
                set_skip_reason(row, reason)
            continue
        documents = _documents(plan, connection.source, row.created_at, zone)
        outcome.documents.update(document.kind.value for document in documents)
        if dry_run:
            outcome.planned.extend(documents)
            continue
        set_skip_reason(row, None)
        session.flush()
        ids = writer.insert_documents(documents)
        writer.insert_assignments(
            [(ids[document.key], [row.id], document.kind.value) for document in documents]
        )
    session.flush()
    return outcome
