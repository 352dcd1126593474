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
from typing import TYPE_CHECKING

from core.connections.quota import quota_status
from core.host import Host
from core.store.daily_syncs import DAILY_TRIGGERS, last_daily_sync_calls
from core.store.repository import connection_info
from core.sync.forecast import forecast_for

if TYPE_CHECKING:  # the store's types, named in signatures only
    from core.store.models import Connection

__all__ = ["DAILY_TRIGGERS", "EventBudget", "daily_need", "event_budget"]


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


def daily_need(host: Host, name: str, connection_id: int, now: datetime) -> int:
    """The destination calls the next daily sync is forecast to need (see the module)."""
    waiting = forecast_for(host, name, [], now)
    return (waiting.total if waiting else 0) + last_daily_sync_calls(host.database, connection_id)


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
