"""What the last daily sync of a connection spent, as its run row recorded it.

A *daily* sync is every sync but an event sync: scheduled, catch-up, worker and manual runs.
Event syncs keep their hands off what the next daily sync is forecast to need
(:mod:`core.sync.event_budget`); this is the store's side of that forecast.
"""

from __future__ import annotations

from sqlalchemy import select

from core.store.database import Database
from core.store.models import Run

__all__ = ["DAILY_TRIGGERS", "last_daily_sync_calls"]

DAILY_TRIGGERS = ("scheduled", "catch_up", "worker", "manual")  # every sync but an event sync


def last_daily_sync_calls(database: Database, connection_id: int) -> int:
    """Destination calls of the last daily (non-event, non-dry) sync that did work; 0 when
    there was none."""
    with database.session() as session:
        run = session.scalar(
            select(Run)
            .where(
                Run.connection_id == connection_id,
                Run.trigger.in_(DAILY_TRIGGERS),
                Run.dry_run.is_(False),
                Run.outcome.in_(("succeeded", "incomplete", "paused")),
            )
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(1)
        )
        if run is None:
            return 0
        counts = run.counts or {}
        return int(counts.get("destination_calls", run.api_calls) or 0)
