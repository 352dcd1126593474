"""Zoho's API limits per organization: a daily quota, a per-minute rate, concurrent calls.

zoho.rate_limit.*: the daily quota is the plan's (shared by every app of the organization,
code 45 when spent), at most ``per_minute`` calls a minute (code 44) and the plan's concurrent
calls (code 1070); every answer carries the daily quota in ``X-Rate-Limit-*`` headers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from plugins.zoho_books.testing.standin.envelope import Limited
from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["Quota"]


class Quota:
    """The counters; the caller holds the stand-in's lock."""

    def __init__(self) -> None:
        self.daily: dict[tuple[str, str], int] = {}
        self.minute: dict[tuple[str, int], int] = {}
        self.in_flight: dict[str, int] = {}

    def used(self, organization_id: str, now: datetime) -> int:
        return self.daily.get((organization_id, now.date().isoformat()), 0)

    def spend(self, organization_id: str, now: datetime, calls: int) -> None:
        day = (organization_id, now.date().isoformat())
        self.daily[day] = self.daily.get(day, 0) + calls

    def headers(
        self, org: Organization, now: datetime, reset_seconds: int | None, sent: bool = True
    ) -> dict[str, str]:
        """zoho.rate_limit.headers_daily: the plan's limit, what is left today, and seconds
        until the next UTC day (or ``reset_seconds`` when set); none unless ``sent``."""
        if not sent:
            return {}
        used = self.used(org.organization_id, now)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        reset = max(1, int((midnight - now).total_seconds()))
        if reset_seconds is not None:
            reset = reset_seconds
        return {
            "X-Rate-Limit-Limit": str(org.daily_limit),
            "X-Rate-Limit-Remaining": str(max(0, org.daily_limit - used)),
            "X-Rate-Limit-Reset": str(reset),
        }

    def admit(
        self, org: Organization, now: datetime, per_minute: int, headers: dict[str, str]
    ) -> None:
        """Count one call, or refuse it: daily quota, per-minute rate (answered with
        ``headers``), concurrency."""
        org_id = org.organization_id
        if self.used(org_id, now) >= org.daily_limit:
            raise ApiError(
                429,
                45,
                f"You have exceeded the maximum call rate limit of {org.daily_limit}. "
                "Please try again later.",
            )
        minute = (org_id, int(now.timestamp() // 60))
        if self.minute.get(minute, 0) >= per_minute:
            raise Limited(headers)
        if self.in_flight.get(org_id, 0) >= org.concurrency_limit:
            raise ApiError(429, 1070, "Too many concurrent requests. Please try again later.")
        self.spend(org_id, now, 1)
        self.minute[minute] = self.minute.get(minute, 0) + 1
        self.in_flight[org_id] = self.in_flight.get(org_id, 0) + 1

    def done(self, organization_id: str) -> None:
        self.in_flight[organization_id] -= 1
