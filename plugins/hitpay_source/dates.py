"""Which dates to ask HitPay for: the time zone of ``date_from``/``date_to`` is undocumented."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["MARGIN", "listing_dates"]

MARGIN = timedelta(days=1)


def listing_dates(start: datetime, end: datetime) -> tuple[date, date]:
    """``date_from``/``date_to`` covering ``[start, end)`` in any time zone, one day of margin
    each side; callers filter on ``created_at`` exactly."""
    return (start.astimezone(UTC) - MARGIN).date(), (end.astimezone(UTC) + MARGIN).date()
