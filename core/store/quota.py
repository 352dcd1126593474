"""The destination's daily API quota as its client last saw it, kept per connection (one
organization each) in the cache table: calls a day, calls left, when it resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import ApiUsage, CacheEntry

__all__ = ["QUOTA_ENTRY", "DailyQuota", "destination_calls_on", "read_quota", "write_quota"]

QUOTA_ENTRY = "ledgersync:destination_quota"


@dataclass(frozen=True, slots=True)
class DailyQuota:
    """One answer's quota: calls a day, calls left, when it resets, when it was seen."""

    limit: int
    remaining: int
    resets_at: datetime
    seen_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "resets_at": self.resets_at.isoformat(),
            "seen_at": self.seen_at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Any) -> DailyQuota | None:
        try:
            return cls(
                limit=int(value["limit"]),
                remaining=int(value["remaining"]),
                resets_at=datetime.fromisoformat(value["resets_at"]),
                seen_at=datetime.fromisoformat(value["seen_at"]),
            )
        except (TypeError, KeyError, ValueError):
            return None


def write_quota(session: Session, connection_id: int, quota: DailyQuota) -> None:
    row = session.scalar(
        select(CacheEntry).where(
            CacheEntry.connection_id == connection_id, CacheEntry.name == QUOTA_ENTRY
        )
    )
    if row is None:
        session.add(
            CacheEntry(
                connection_id=connection_id,
                name=QUOTA_ENTRY,
                value=quota.to_json(),
                updated_at=quota.seen_at,
            )
        )
    else:
        row.value = quota.to_json()
        row.updated_at = quota.seen_at


def read_quota(session: Session, connection_id: int) -> DailyQuota | None:
    value = session.scalar(
        select(CacheEntry.value).where(
            CacheEntry.connection_id == connection_id, CacheEntry.name == QUOTA_ENTRY
        )
    )
    return DailyQuota.from_json(value) if value is not None else None


def destination_calls_on(session: Session, connection_id: int, day: date) -> int:
    """The connection's destination calls on the UTC ``day`` (0 if none)."""
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
