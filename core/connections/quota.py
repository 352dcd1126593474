"""The destination's daily API quota as its client last saw it, and ledgersync's share of it.

The destination plugin reports the quota its API answers with (limit, remaining, reset) to the
run's call counter (``core.contracts.QuotaObserver``); the counter keeps the last one per
connection (one organization each) in the store. A connection setting, ``api_share`` (percent,
default 80), caps ledgersync's part of the day so the organization's other apps keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import ApiUsage
from core.store.quota import DailyQuota, read_quota

__all__ = [
    "DEFAULT_API_SHARE",
    "DailyQuota",
    "QuotaStatus",
    "api_share",
    "quota_status",
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


def destination_calls_on(session: Session, connection_id: int, day: date) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ApiUsage.calls), 0)).where(
                ApiUsage.connection_id == connection_id,
                ApiUsage.side == "destination",
                ApiUsage.day == day,
            )
        )
        or 0
    )


def quota_status(
    session: Session, connection_id: int, extra: Any, now: datetime
) -> QuotaStatus | None:
    """The quota as last seen, brought to ``now``: once its reset has passed, the whole day's
    quota is back. None until the destination has answered with one."""
    quota = read_quota(session, connection_id)
    if quota is None:
        return None
    used = destination_calls_on(session, connection_id, now.date())
    if now >= quota.resets_at:
        return QuotaStatus(quota.limit, quota.limit, None, quota.seen_at, api_share(extra), used)
    return QuotaStatus(
        quota.limit, quota.remaining, quota.resets_at, quota.seen_at, api_share(extra), used
    )
