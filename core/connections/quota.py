"""The destination's daily API quota as its client last saw it, and ledgersync's share of it.

The destination plugin reports the quota its API answers with (limit, remaining, reset) to the
run's call counter (``core.contracts.QuotaObserver``); the counter keeps the last one per
connection (one organization each) in the store. A connection setting, ``api_share`` (percent,
default 80), caps ledgersync's part of the day so the organization's other apps keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from core.contracts import ConnectionInfo
from core.errors import DailyLimitReached, EventSyncDeferred
from core.store.database import Database
from core.store.quota import DailyQuota, destination_calls_on, read_quota

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "DEFAULT_API_SHARE",
    "DailyQuota",
    "QuotaStatus",
    "api_share",
    "quota_status",
    "share_guard",
]

DEFAULT_API_SHARE = 80  # percent of the destination's daily quota ledgersync may use


def api_share(extra: Any) -> int:
    """The connection's share in percent (its settings' ``api_share``, else the default)."""
    try:
        share = int(extra.get("api_share") or DEFAULT_API_SHARE)
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_API_SHARE
    return min(100, max(1, share))


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """Today's quota for people: the organization's and ledgersync's share of it."""

    limit: int
    remaining: int  # the organization's calls left (every app), as last seen
    resets_at: datetime | None  # None: the last seen reset has passed; the next is not known
    seen_at: datetime
    share: int  # percent
    used_today: int  # ledgersync's destination calls today (UTC day)

    @property
    def share_calls(self) -> int:
        return self.limit * self.share // 100

    @property
    def share_left(self) -> int:
        """What ledgersync may still spend today: its share less what it used, and never more
        than the organization has left."""
        return max(0, min(self.remaining, self.share_calls - self.used_today))

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
            "seen_at": self.seen_at.isoformat(),
            "share_percent": self.share,
            "share_calls": self.share_calls,
            "used_today": self.used_today,
            "share_left": self.share_left,
        }


def quota_status(
    session: Session, connection_id: int, extra: Any, now: datetime
) -> QuotaStatus | None:
    """The quota as last seen, brought to ``now``: once its reset has passed, the whole day's
    quota is back. None until the destination has answered with one."""
    quota = read_quota(session, connection_id)
    if quota is None:
        return None
    share = api_share(extra)
    if now < quota.resets_at:
        used = destination_calls_on(session, connection_id, now.date())
        return QuotaStatus(
            quota.limit, quota.remaining, quota.resets_at, quota.seen_at, share, used
        )
    # The day it counted has reset: the whole quota is back, and only calls made on a later
    # UTC day than the reset count against the new one (the store counts calls per UTC day).
    later = now.date() > quota.resets_at.astimezone(UTC).date()
    used = destination_calls_on(session, connection_id, now.date()) if later else 0
    return QuotaStatus(quota.limit, quota.limit, None, quota.seen_at, share, used)


def _next_utc_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


def share_guard(
    database: Database, connection: ConnectionInfo, calls: Any, now: datetime, *, keep: int = 0
) -> Callable[[int], None]:
    """A check the delivery makes before each unit of documents (``core.sync.pacing``), with
    the calls the unit needs: it raises DailyLimitReached when they would take ledgersync's
    destination calls today past its share of the quota (the quota as this run's ``calls``
    counter saw it, else as stored). A unit bigger than the whole share only needs one call
    of room (it could never fit); a unit's calls may pass the share by a few look-ups.
    With ``keep`` (an event sync: the calls the daily sync needs) it raises EventSyncDeferred
    when the unit would take the share left, or the organization's calls left, below ``keep``."""
    share = api_share(connection.settings.extra)
    with database.session() as session:
        stored = quota_status(session, connection.id, connection.settings.extra, now)
        used_before = (
            stored.used_today
            if stored
            else destination_calls_on(session, connection.id, now.date())
        )

    def check(needed: int = 1) -> None:
        seen = getattr(calls, "last_quota", None)
        limit = seen.limit if seen is not None else stored.limit if stored else None
        if limit is None:
            return  # the quota is not known yet: the destination's own limit answers
        share_calls = limit * share // 100
        spent = used_before + int(calls.total)
        resets = seen.resets_at if seen is not None else stored.resets_at if stored else None
        resume = resets or _next_utc_midnight(now)
        if keep:
            remaining = seen.remaining if seen is not None else stored.remaining if stored else 0
            left = min(share_calls - spent, remaining)
            if left - max(needed, 1) < keep:  # the next unit would eat into the daily need
                raise EventSyncDeferred(
                    f"deferred: the daily sync needs {keep:,} of the {max(left, 0):,} calls left "
                    "in today's API share",
                    f"The events wait for the quota's reset at {resume:%Y-%m-%d %H:%M} UTC; "
                    "the daily sync still books everything.",
                )
        left = share_calls - spent
        if seen is not None:  # the organization's calls left (other apps spend them too)
            left = min(left, seen.remaining)
        room = needed if needed <= share_calls else 1
        if room <= left:
            return
        raise DailyLimitReached(
            "paused: ledgersync's share of today's API quota is spent",
            f"It used {spent:,} calls of its {share}% ({share_calls:,} of {limit:,} a day; "
            f"{max(left, 0):,} left, {room:,} needed next); the "
            f"sync resumes after {resume:%Y-%m-%d %H:%M} UTC and nothing is lost. "
            f"`ledgersync settings {connection.name} --api-share PERCENT` changes the share.",
            resume_after=resume,
        )

    return check
