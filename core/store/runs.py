"""A sync's records in the store: its run row, and what it keeps on its connection.

The sync engine (``core/sync/engine.py`` and ``core/sync/run_end.py``) speaks to the store
through these names only. Functions that take a ``session`` write in the caller's transaction
(so a run's end and its alerts commit together); the others open their own.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import ConnectionInfo
from core.states import RunOutcome
from core.store.database import Database
from core.store.models import Connection, Run
from core.store.repository import connection_info

__all__ = [
    "SourceProgress",
    "close_abandoned_runs",
    "finish_run",
    "last_sync_at",
    "mark_synced",
    "pause_until",
    "recent_outcomes",
    "save_source_progress",
    "source_progress",
    "start_run",
]


def last_sync_at(database: Database, connection_id: int) -> datetime | None:
    """When the connection last synced (an event sync does not count), if ever."""
    with database.session() as session:
        return session.get_one(Connection, connection_id).last_sync_at


def close_abandoned_runs(database: Database, connection_id: int, now: datetime, error: str) -> int:
    """Mark "interrupted" (finished ``now``, ``error`` unless one is kept) every run of the
    connection still "running"; how many."""
    with database.session() as session:
        stale = session.scalars(
            select(Run).where(Run.connection_id == connection_id, Run.outcome == RunOutcome.RUNNING)
        ).all()
        for run in stale:
            run.outcome = RunOutcome.INTERRUPTED
            run.finished_at = now
            run.error = run.error or error
        return len(stale)


def start_run(
    database: Database,
    connection_id: int,
    *,
    trigger: str,
    forced: bool,
    dry_run: bool,
    started_at: datetime,
) -> tuple[int, ConnectionInfo]:
    """Record a run as started (by this host and process); its id and the connection."""
    with database.session() as session:
        row = session.get_one(Connection, connection_id)
        run = Run(
            connection_id=connection_id,
            trigger=trigger,
            forced=forced,
            dry_run=dry_run,
            started_at=started_at,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        session.add(run)
        session.flush()
        return run.id, connection_info(row)


def finish_run(
    session: Session,
    run_id: int,
    *,
    finished_at: datetime,
    outcome: str,
    counts: dict[str, Any],
    skipped: dict[str, int],
    api_calls: int,
    quarantined: int,
    error: str | None,
) -> None:
    """Write what the run did onto its record."""
    row = session.get_one(Run, run_id)
    row.finished_at = finished_at
    row.outcome = outcome
    row.counts = counts
    row.skipped = skipped
    row.api_calls = api_calls
    row.quarantined = quarantined
    row.error = error


def recent_outcomes(
    session: Session, connection_id: int, before_run: int, limit: int
) -> Sequence[str]:
    """The outcomes of the connection's latest ``limit`` runs other than ``before_run`` (dry
    runs left out), newest first."""
    return session.scalars(
        select(Run.outcome)
        .where(Run.connection_id == connection_id, Run.id != before_run, Run.dry_run.is_(False))
        .order_by(Run.id.desc())
        .limit(limit)
    ).all()


class SourceProgress(NamedTuple):
    """How far the source was read (``fetched_until``, ISO text or None), the source's own
    bookmark, and the connection's extra settings."""

    fetched_until: str | None
    bookmark: dict[str, Any]
    extra: Any


def source_progress(database: Database, connection_id: int) -> SourceProgress:
    with database.session() as session:
        row = session.get_one(Connection, connection_id)
        state = row.source_state or {}
        return SourceProgress(
            state.get("fetched_until"),
            dict(state.get("source", {})),
            (row.settings or {}).get("extra"),
        )


def save_source_progress(
    database: Database, connection_id: int, bookmark: dict[str, Any], fetched_until: datetime
) -> None:
    """Keep the source's bookmark, read up to ``fetched_until`` (after what it covers is stored)."""
    with database.session() as session:
        row = session.get_one(Connection, connection_id)
        row.source_state = {"source": bookmark, "fetched_until": fetched_until.isoformat()}


def mark_synced(
    session: Session, connection_id: int, now: datetime, *, daily: bool, manual: bool
) -> None:
    """A run succeeded: ``last_sync_at`` moves (``daily``: not an event sync), and
    ``last_manual_sync_at`` too (``manual``); the connection is no longer paused."""
    row = session.get_one(Connection, connection_id)
    if daily:
        row.last_sync_at = now
    if manual:
        row.last_manual_sync_at = now
    row.paused_until = None


def pause_until(session: Session, connection_id: int, resume: datetime) -> None:
    """Pause the connection's syncs until ``resume``."""
    session.get_one(Connection, connection_id).paused_until = resume
