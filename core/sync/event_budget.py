"""What event syncs may spend: ledgersync's share of today's destination quota less what the
daily sync is forecast to need.

The daily sync's need is the forecast (the destination's call costs, :mod:`core.sync.forecast`)
of the documents waiting for delivery, plus the destination calls the last daily sync spent
(the measure of the work a day brings that is not known yet). Event syncs start only while the
share left today exceeds that need, and stop (the run ends ``incomplete``, the connection is
not paused) once their calls would eat into it; their events then wait for the quota's reset.
Until the destination has answered with its quota, nothing is known to keep: event syncs run
and the first answer tells the quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from core.connections.quota import quota_status
from core.host import Host
from core.store.models import Connection, Run
from core.store.repository import connection_info
from core.sync.forecast import forecast_for

__all__ = ["DAILY_TRIGGERS", "EventBudget", "daily_need", "event_budget"]

DAILY_TRIGGERS = ("scheduled", "catch_up", "worker", "manual")  # every sync but an event sync


@dataclass(frozen=True, slots=True)
class EventBudget:
    """Today's room for event syncs, in destination calls."""

    share_left: int | None  # ledgersync's share left today; None: the quota is not known yet
    daily_need: int
    resets_at: datetime  # when the quota's day ends (the next UTC midnight if not told)

    @property
    def room(self) -> int | None:
        return None if self.share_left is None else self.share_left - self.daily_need

    def deferral(self) -> str:
        """Why event syncs wait for the quota's reset; empty while they may run."""
        if self.room is None or self.room > 0:
            return ""
        return (
            f"deferred: the daily sync needs {self.daily_need:,} of the {self.share_left:,} "
            "calls left in today's API share"
        )


def _last_daily_calls(host: Host, connection_id: int) -> int:
    """Destination calls of the last daily (non-event, non-dry) sync that did work."""
    with host.database.session() as session:
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


def daily_need(host: Host, name: str, connection_id: int, now: datetime) -> int:
    """The destination calls the next daily sync is forecast to need (see the module)."""
    waiting = forecast_for(host, name, [], now)
    return (waiting.total if waiting else 0) + _last_daily_calls(host, connection_id)


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


def event_budget(host: Host, row: Connection, now: datetime) -> EventBudget:
    """The room event syncs of connection ``row`` have today."""
    with host.database.session() as session:
        quota = quota_status(session, row.id, connection_info(row).settings.extra, now)
    resets = (quota.resets_at if quota else None) or _next_utc_midnight(now)
    if quota is None:
        return EventBudget(None, 0, resets)
    return EventBudget(quota.share_left, daily_need(host, row.name, row.id, now), resets)
