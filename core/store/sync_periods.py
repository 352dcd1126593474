"""A connection's sync periods (each from enabling to disabling sync; an open one has no end),
read in the caller's session."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.store.models import SyncPeriod

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["add_backfill_period", "first_sync_start", "periods_in_order"]


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


def add_backfill_period(
    session: Session, connection_id: int, started: datetime, ended: datetime
) -> None:
    """Add a closed sync period ``[started, ended)`` logged as a back-fill."""
    session.add(
        SyncPeriod(connection_id=connection_id, started_at=started, ended_at=ended, backfill=True)
    )
