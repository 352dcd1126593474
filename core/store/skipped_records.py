"""Skipped source records taken back (``core.connections.backfill``): the charges skipped for
the sync periods or their channel in a range, the refunds skipped with them, and what a booked
payout settled that ledgersync had not booked.

Every function reads or writes in the caller's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, exists, or_, select, update

from core.reasons import OUTSIDE_SYNC_PERIODS, REFUND_OF_UNFETCHED_CHARGE
from core.store.models import Assignment, Connection, SourceRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "CHANNEL_SKIP",
    "REFUND_OF_SKIPPED",
    "booked_payouts_after",
    "refetch_from_start",
    "reopen_skipped_charges",
    "reopenable_skips",
    "stored_charges",
]

CHANNEL_SKIP = "its channel "  # core.reasons.channel_not_selected's reasons start so
REFUND_OF_SKIPPED = "refund of a charge that is not synced ("


def _reopenable(connection_id: int, start: datetime, end: datetime) -> ColumnElement[bool]:
    return (
        (SourceRecord.connection_id == connection_id)
        & (SourceRecord.kind == "charge")
        & (SourceRecord.created_at >= start)
        & (SourceRecord.created_at < end)
        & or_(
            SourceRecord.skip_reason == OUTSIDE_SYNC_PERIODS,
            SourceRecord.skip_reason.startswith(CHANNEL_SKIP, autoescape=True),
        )
    )


def reopenable_skips(
    session: Session, connection_id: int, start: datetime, end: datetime
) -> list[tuple[str | None, str, Decimal]]:
    """``(skip reason, currency, amount)`` of each charge created in ``[start, end)`` and
    skipped for the sync periods or its channel."""
    return [
        (reason, currency, amount)
        for reason, currency, amount in session.execute(
            select(SourceRecord.skip_reason, SourceRecord.currency, SourceRecord.amount).where(
                _reopenable(connection_id, start, end)
            )
        )
    ]


def booked_payouts_after(
    session: Session, connection_id: int, start: datetime
) -> list[tuple[str, datetime, Any]]:
    """``(source id, created, payload)`` of each payout created after ``start`` that is
    already booked (assigned to a document)."""
    return [
        (source_id, created_at, payload)
        for source_id, created_at, payload in session.execute(
            select(SourceRecord.source_id, SourceRecord.created_at, SourceRecord.payload).where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == "payout",
                SourceRecord.created_at > start,
                exists().where(Assignment.record_id == SourceRecord.id),
            )
        )
    ]


def stored_charges(
    session: Session, connection_id: int, charge_ids: Sequence[str]
) -> dict[str, tuple[datetime, str | None]]:
    """The stored charges among ``charge_ids``: each one's creation and skip reason."""
    return {
        source_id: (created, reason)
        for source_id, created, reason in session.execute(
            select(SourceRecord.source_id, SourceRecord.created_at, SourceRecord.skip_reason).where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == "charge",
                SourceRecord.source_id.in_(charge_ids),
            )
        )
    }


def reopen_skipped_charges(
    session: Session, connection_id: int, start: datetime, end: datetime
) -> list[str]:
    """Clear the period and channel skips of the charges created in ``[start, end)``, and the
    skips of the refunds skipped with them; the charges' source ids."""
    where = _reopenable(connection_id, start, end)
    charge_ids = list(session.scalars(select(SourceRecord.source_id).where(where)))
    session.execute(update(SourceRecord).where(where).values(skip_reason=None))
    for chunk in (charge_ids[i : i + 500] for i in range(0, len(charge_ids), 500)):
        session.execute(
            update(SourceRecord)
            .where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == "refund",
                SourceRecord.charge_id.in_(chunk),
                SourceRecord.skip_reason.startswith(REFUND_OF_SKIPPED, autoescape=True),
            )
            .values(skip_reason=None)
        )
    return charge_ids


def refetch_from_start(session: Session, row: Connection) -> None:
    """The next sync fetches from the start again (the source forgets how far it fetched),
    and refunds skipped because their charge was never fetched are judged again."""
    state = dict(row.source_state or {})
    state.pop("fetched_until", None)
    row.source_state = state
    session.execute(
        update(SourceRecord)
        .where(
            SourceRecord.connection_id == row.id,
            SourceRecord.kind == "refund",
            SourceRecord.skip_reason == REFUND_OF_UNFETCHED_CHARGE,
        )
        .values(skip_reason=None)
    )
