"""Skips undone on request: a back-fill over a date range, and a sync period moved earlier.

Charges created before sync was enabled, while it was disabled, or from a channel not selected
at the time are skipped for good by default. :func:`backfill` takes back those skips in a range
the operator names (after :func:`backfill_preview` said what it would book): a closed sync
period covers the range, the skipped charges (and the refunds skipped with them) are planned
again under the current rules at the next sync, and when the range starts before anything was
fetched the next sync fetches from its start. :func:`reopen_skips` is the part ``enable
--since`` shares when it moves the open period earlier.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from core.contracts import ConnectionInfo
from core.errors import ConfigurationError
from core.host import Host
from core.reasons import OUTSIDE_SYNC_PERIODS
from core.states import ConnectionStatus
from core.store.repository import connection_info, get_connection, utcnow
from core.store.skipped_records import (
    CHANNEL_SKIP,
    booked_payouts_after,
    refetch_from_start,
    reopen_skipped_charges,
    reopenable_skips,
    stored_charges,
)
from core.store.sync_periods import add_backfill_period, first_sync_start

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.models import Connection

__all__ = ["BackfillPlan", "backfill", "backfill_preview", "reopen_skips"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BackfillPlan:
    """What a back-fill of ``[start, end)`` takes back: skipped charges per reason, their
    amounts per currency, and whether the range starts before anything was fetched."""

    name: str
    start: datetime
    end: datetime
    timezone: str
    charges: Counter[str] = field(default_factory=Counter)  # per skip reason
    amounts: dict[str, Decimal] = field(default_factory=dict)  # per currency
    unfetched_before: datetime | None = None  # the range reaches before this, never fetched
    unfetched_after: datetime | None = None  # the range reaches past what was fetched so far

    @property
    def total(self) -> int:
        return sum(self.charges.values())

    @property
    def empty(self) -> bool:
        """Nothing skipped in the range, and all of it fetched: nothing to take back."""
        return not self.total and self.unfetched_before is None and self.unfetched_after is None


def _range(host: Host, name: str, first: date, last: date, now: datetime) -> tuple[datetime, ...]:
    info = connection_info_of(host, name)
    zone = info.timezone
    if last < first:
        raise ConfigurationError(
            f"--from {first} is after --to {last}.", "Give the first day, then the last."
        )
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    if start >= now:
        raise ConfigurationError(
            f"--from {first} is in the future ({zone.key}).", "Back-fill days that have begun."
        )
    return start, min(end, now)


def connection_info_of(host: Host, name: str) -> ConnectionInfo:
    with host.database.session() as session:
        return connection_info(get_connection(session, name))


def backfill_preview(
    host: Host, name: str, first: date, last: date, now: datetime | None = None
) -> BackfillPlan:
    """What :func:`backfill` would take back, without changing anything."""
    now = now or utcnow()
    start, end = _range(host, name, first, last, now)
    with host.database.session() as session:
        row = get_connection(session, name)
        if row.status == ConnectionStatus.DISCONNECTED:
            raise ConfigurationError(
                f"connection {name!r} is disconnected.", "Reconnect it before back-filling."
            )
        refuse_paid_out(session, row, start)
        plan = BackfillPlan(name, start, end, row.timezone)
        # Summed here, as Decimal: a database's SUM of a money column may come back a float.
        for reason, currency, amount in reopenable_skips(session, row.id, start, end):
            plan.charges[str(reason)] += 1
            plan.amounts[currency] = plan.amounts.get(currency, Decimal(0)) + amount
        earliest = first_sync_start(session, row.id)
        if earliest is None or start < earliest:
            plan.unfetched_before = earliest or end
        fetched = (row.source_state or {}).get("fetched_until")
        fetched_until = datetime.fromisoformat(fetched) if fetched else None
        if plan.unfetched_before is None and (fetched_until is None or end > fetched_until):
            plan.unfetched_after = max(fetched_until or start, start)
    return plan


def _taken_back(reason: str | None) -> bool:
    """Whether a back-fill takes back a charge skipped for ``reason``."""
    return reason is not None and (
        reason == OUTSIDE_SYNC_PERIODS or reason.startswith(CHANNEL_SKIP)
    )


def refuse_paid_out(session: Session, row: Connection, start: datetime) -> None:
    """Refuse to take back skips from ``start`` on when a payout from after ``start`` is already
    booked and settled charges ledgersync had not booked (never fetched, or skipped): its
    adjustment put them into clearing, so booking them now would count them twice."""
    booked_payouts = booked_payouts_after(session, row.id, start)
    earliest = first_sync_start(session, row.id)
    refetches = earliest is None or start < earliest  # never-fetched charges would come in
    for payout_id, created_at, payload in booked_payouts:
        charge_ids = [str(c) for c in (payload or {}).get("charge_ids") or []]
        if not charge_ids:
            continue
        stored = stored_charges(session, row.id, charge_ids)
        unbooked = [
            charge_id
            for charge_id in charge_ids
            if (charge_id not in stored and refetches)
            or (
                charge_id in stored
                and _taken_back(stored[charge_id][1])
                and stored[charge_id][0] >= start
            )
        ]
        if unbooked:
            raise ConfigurationError(
                f"payout {payout_id} ({created_at.astimezone(start.tzinfo):%Y-%m-%d}) is booked "
                f"and settled {len(unbooked)} charge(s) ledgersync had not synced (e.g. "
                f"{unbooked[0]}) through its adjustment; taking back skips from "
                f"{start:%Y-%m-%d} would book them twice.",
                "Back-fill only days after that payout, or reverse its adjustment journal in "
                "the books first.",
            )


def reopen_skips(
    session: Session, row: Connection, start: datetime, end: datetime | None = None
) -> int:
    """Take back the period and channel skips of charges created in ``[start, end)`` and the
    refunds skipped with them; refetch from ``start`` when it precedes every sync period (call
    before adding the period). Returns the number of charges reopened."""
    refuse_paid_out(session, row, start)
    end = end or datetime.max.replace(tzinfo=start.tzinfo)
    charge_ids = reopen_skipped_charges(session, row.id, start, end)
    earliest = first_sync_start(session, row.id)
    if earliest is None or start < earliest:
        # Nothing before ``earliest`` was ever fetched: the next sync fetches from ``start``,
        # and refunds of charges it had not fetched are judged again.
        refetch_from_start(session, row)
    return len(charge_ids)


def backfill(
    host: Host, name: str, first: date, last: date, now: datetime | None = None
) -> BackfillPlan:
    """Take back the skips of ``[first, last]`` (the connection's local days): a closed,
    logged back-fill period covers them and the next sync books them."""
    now = now or utcnow()
    plan = backfill_preview(host, name, first, last, now)
    with host.database.session() as session:
        row = get_connection(session, name)
        reopen_skips(session, row, plan.start, plan.end)
        add_backfill_period(session, row.id, plan.start, plan.end)
    log.info(
        "connection %s: back-fill of %s to %s (%d skipped charges taken back)",
        name,
        plan.start.isoformat(),
        plan.end.isoformat(),
        plan.total,
    )
    return plan
