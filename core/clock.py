"""The host's one clock: every "now" in ledgersync, its plugins and their stand-ins comes from here.

``now()`` is the wall clock in UTC, moved by ``LEDGERSYNC_CLOCK_OFFSET`` seconds when that
variable is set. The variable is a test setting: the test suite picks an instant (an awkward
one in CI, such as one second before midnight in Singapore), sets the offset that makes the
wall clock read it, and every process it starts (CLI subprocesses, Celery workers, stand-ins)
inherits the same offset, so all of them agree on the time and it still flows. Nothing else in
the product may read the wall clock for a date or an instant (a test enforces it); durations
measured with ``time.monotonic`` are not instants and stay as they are.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

__all__ = ["OFFSET_VARIABLE", "now", "offset_for"]

OFFSET_VARIABLE = "LEDGERSYNC_CLOCK_OFFSET"


def _offset() -> timedelta:
    text = os.environ.get(OFFSET_VARIABLE)
    if not text:
        return timedelta(0)
    try:
        return timedelta(seconds=float(text))
    except (ValueError, OverflowError):
        raise SystemExit(
            f"{OFFSET_VARIABLE}={text!r} is not a number of seconds;"
            " unset it (it is a test setting)."
        ) from None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    offset = _offset()
    try:
        return datetime.now(UTC) + offset
    except OverflowError:
        raise SystemExit(
            f"{OFFSET_VARIABLE} moves the clock beyond the year 9999; unset it (it is a test "
            "setting)."
        ) from None


def offset_for(instant: datetime) -> str:
    """The :data:`OFFSET_VARIABLE` value that makes ``now()`` read ``instant`` at this moment."""
    if instant.tzinfo is None:
        raise ValueError(f"instant {instant!r} must be aware")
    return repr((instant - datetime.now(UTC)).total_seconds())
