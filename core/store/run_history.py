"""A connection's past runs as reports and the event scheduler read them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.states import RunOutcome, SyncTrigger
from core.store.models import Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.database import Database

__all__ = ["last_attempt", "last_event_sync_at", "last_success_at", "latest_runs"]


def latest_runs(session: Session, connection_id: int, limit: int) -> list[Run]:
    """The connection's latest ``limit`` runs, newest first."""
    return list(
        session.scalars(
            select(Run)
            .where(Run.connection_id == connection_id)
            .order_by(Run.id.desc())
            .limit(limit)
        )
    )


def last_attempt(session: Session, connection_id: int) -> Run | None:
    """The connection's latest run that was not a dry run, if any."""
    return session.scalar(
        select(Run)
        .where(Run.connection_id == connection_id, Run.dry_run.is_(False))
        .order_by(Run.id.desc())
        .limit(1)
    )


def last_success_at(session: Session, connection_id: int) -> datetime | None:
    """When the connection's latest successful run (not a dry run) started, if ever."""
    return session.scalar(
        select(func.max(Run.started_at)).where(
            Run.connection_id == connection_id,
            Run.dry_run.is_(False),
            Run.outcome == RunOutcome.SUCCEEDED,
        )
    )


def last_event_sync_at(database: Database, connection_id: int) -> datetime | None:
    """When the connection's latest event sync started, if ever."""
    with database.session() as session:
        return session.scalar(
            select(func.max(Run.started_at)).where(
                Run.connection_id == connection_id, Run.trigger == SyncTrigger.EVENT
            )
        )
