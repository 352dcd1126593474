"""A connection's sync periods (each from enabling to disabling sync; an open one has no end),
read and written in the caller's session."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from core.reasons import OUTSIDE_SYNC_PERIODS
from core.store.models import SourceRecord, SyncPeriod

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "add_backfill_period",
    "closed_period_end_after",
    "first_sync_start",
    "open_period",
    "periods_in_order",
    "start_period",
    "take_back_outside_skips",
]


def first_sync_start(session: Session, connection_id: int) -> datetime | None:
    """When sync was first enabled for the connection (None: never)."""
    return session.scalar(
        select(func.min(SyncPeriod.started_at)).where(SyncPeriod.connection_id == connection_id)
    )


def periods_in_order(
    session: Session, connection_id: int
) -> list[tuple[datetime, datetime | None]]:
    """``(started, ended)`` of each sync period of the connection, oldest first (``ended``
    None: still open)."""
    return [
        (period.started_at, period.ended_at)
        for period in session.scalars(
            select(SyncPeriod)
            .where(SyncPeriod.connection_id == connection_id)
            .order_by(SyncPeriod.started_at)
        )
    ]


def open_period(session: Session, connection_id: int) -> SyncPeriod | None:
    """The connection's open sync period (None: sync is not enabled)."""
    return session.scalar(
        select(SyncPeriod).where(
            SyncPeriod.connection_id == connection_id, SyncPeriod.ended_at.is_(None)
        )
    )


def closed_period_end_after(
    session: Session, connection_id: int, start: datetime, open_id: int | None = None
) -> datetime | None:
    """The end of a period (other than ``open_id``) that ends after ``start``; None: none."""
    return session.scalar(
        select(SyncPeriod.ended_at)
        .where(
            SyncPeriod.connection_id == connection_id,
            SyncPeriod.ended_at > start,
            SyncPeriod.id != (open_id or -1),
        )
        .limit(1)
    )


def start_period(
    session: Session, connection_id: int, start: datetime, backfill: bool
) -> SyncPeriod:
    """A new open sync period from ``start`` (added to the session)."""
    period = SyncPeriod(connection_id=connection_id, started_at=start, backfill=backfill)
    session.add(period)
    return period


def take_back_outside_skips(session: Session, connection_id: int, start: datetime) -> None:
    """Take back the "outside every sync period" skips of records created from ``start`` on."""
    session.execute(
        update(SourceRecord)
        .where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.skip_reason == OUTSIDE_SYNC_PERIODS,
            SourceRecord.created_at >= start,
        )
        .values(skip_reason=None)
    )


def add_backfill_period(
    session: Session, connection_id: int, started: datetime, ended: datetime
) -> None:
    """Add a closed sync period ``[started, ended)`` logged as a back-fill."""
    session.add(
        SyncPeriod(connection_id=connection_id, started_at=started, ended_at=ended, backfill=True)
    )
