"""Moving the injected clock (core.clock) in tests: for this process and every process it starts.

The suite runs at an instant chosen by ``LEDGERSYNC_TEST_INSTANT`` (tests/conftest.py). A test
whose steps must not straddle a boundary (a business day closing, the UTC day the API usage is
counted in, the daily sync time) says so with :func:`clear_of`: when the suite's instant is
within the margin before such a boundary, the clock is moved just past it; otherwise it stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import clock

__all__ = ["LocalTime", "clear_of", "move_clock", "next_occurrence"]

LocalTime = tuple[str, time]  # (IANA time zone, wall time)
MARGIN = timedelta(minutes=10)


def move_clock(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> datetime:
    """Make ``core.clock.now()`` read ``instant`` now (time flows on from there)."""
    monkeypatch.setenv(clock.OFFSET_VARIABLE, clock.offset_for(instant))
    return instant


def next_occurrence(moment: datetime, boundary: LocalTime) -> datetime:
    """The first instant at or after ``moment`` whose wall time in the zone is the boundary."""
    zone, wall = ZoneInfo(boundary[0]), boundary[1]
    local = moment.astimezone(zone)
    candidate = datetime.combine(local.date(), wall, tzinfo=zone)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), wall, tzinfo=zone)
    return candidate.astimezone(UTC)


def clear_of(
    monkeypatch: pytest.MonkeyPatch, boundaries: Iterable[LocalTime], margin: timedelta = MARGIN
) -> datetime:
    """Now, moved past any boundary less than ``margin`` ahead, so none falls inside the test."""
    wanted = list(boundaries)
    now = clock.now()
    for _ in range(len(wanted) + 1):
        near = [b for b in (next_occurrence(now, w) for w in wanted) if b - now < margin]
        if not near:
            return now
        now = move_clock(monkeypatch, max(near) + timedelta(seconds=1))
    raise AssertionError(f"boundaries {wanted} leave no room of {margin} at any instant")
