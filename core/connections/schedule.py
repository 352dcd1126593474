"""When a connection syncs: the daily schedule at a local time, and the manual-sync limit.

Pure functions: every one takes ``now`` (an aware datetime) and reads no clock of its own.

The daily schedule is a local wall-clock time in the connection's time zone (default 02:00).
Its occurrence on a local date is that wall time resolved the way PEP 495 resolves it with
``fold=0``:

- on a spring-forward day a wall time inside the gap (02:00-02:59 in New York) does not
  exist; it is taken with the offset from before the gap, i.e. as many minutes after the gap
  as it was into it (02:00 -> 03:00 EDT, 02:30 -> 03:30 EDT), so the day still syncs once;
- on a fall-back day a repeated wall time (01:00-01:59 in New York) is its first occurrence,
  so the day still syncs once, not twice.

A scheduled sync is due when an occurrence has passed since the last sync. After downtime
the host catches up with one sync, not one per missed day.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.errors import ConfigurationError, SyncRefused

__all__ = [
    "DEFAULT_SYNC_TIME",
    "MANUAL_SYNC_INTERVAL",
    "ManualSyncCheck",
    "ensure_manual_sync_allowed",
    "is_due",
    "manual_sync_allowed",
    "manual_sync_refusal",
    "next_scheduled_sync",
    "parse_sync_time",
    "scheduled_occurrence",
]

DEFAULT_SYNC_TIME = "02:00"
MANUAL_SYNC_INTERVAL = timedelta(hours=1)

_SYNC_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def parse_sync_time(text: str | None) -> time:
    """``"HH:MM"`` (24-hour) as a time; None or empty means :data:`DEFAULT_SYNC_TIME`."""
    match = _SYNC_TIME.fullmatch((text or DEFAULT_SYNC_TIME).strip())
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ConfigurationError(
            f"sync time {text!r} is not a time of day.",
            "Use 24-hour HH:MM in the connection's time zone, e.g. --sync-time 02:00.",
        )
    return time(hour, minute)


def _zone(connection_timezone: ZoneInfo | str) -> ZoneInfo:
    if isinstance(connection_timezone, ZoneInfo):
        return connection_timezone
    return ZoneInfo(connection_timezone)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value


def scheduled_occurrence(
    connection_timezone: ZoneInfo | str, sync_time: str | None, day: date
) -> datetime:
    """The instant (UTC) of the scheduled sync for local date ``day`` (see module notes)."""
    zone = _zone(connection_timezone)
    local = datetime.combine(day, parse_sync_time(sync_time), tzinfo=zone)  # fold=0
    return local.astimezone(UTC)


def next_scheduled_sync(
    connection_timezone: ZoneInfo | str,
    sync_time: str | None,
    last_sync_at: datetime | None,
    now: datetime,
) -> datetime:
    """When the next scheduled sync is due (UTC).

    The first daily occurrence after ``last_sync_at``; it may lie in the past, which means
    the sync is due now (the host missed it). ``last_sync_at=None`` (never synced) means due
    now: the result is ``now``. A caller that wants a new connection to wait for its first
    daily time passes the time sync was enabled instead.
    """
    _aware(now, "now")
    if last_sync_at is None:
        return now
    after = _aware(last_sync_at, "last_sync_at")
    zone = _zone(connection_timezone)
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        occurrence = scheduled_occurrence(zone, sync_time, day)
        if occurrence > after:
            return occurrence
        day += timedelta(days=1)


def is_due(
    connection_timezone: ZoneInfo | str,
    sync_time: str | None,
    last_sync_at: datetime | None,
    now: datetime,
) -> bool:
    """Whether a scheduled sync should run at ``now``.

    Pass the start of the last sync that ran (scheduled or manual) as ``last_sync_at``;
    None (never synced) is due at once.
    """
    return next_scheduled_sync(connection_timezone, sync_time, last_sync_at, now) <= now


class ManualSyncCheck(NamedTuple):
    """Whether a manual sync may start now; if not, when the next one may."""

    allowed: bool
    next_allowed_at: datetime | None  # None when allowed now


def manual_sync_allowed(last_manual_sync_at: datetime | None, now: datetime) -> ManualSyncCheck:
    """At most one manual sync per :data:`MANUAL_SYNC_INTERVAL` per connection."""
    _aware(now, "now")
    if last_manual_sync_at is None:
        return ManualSyncCheck(True, None)
    next_allowed = _aware(last_manual_sync_at, "last_manual_sync_at") + MANUAL_SYNC_INTERVAL
    if now >= next_allowed:
        return ManualSyncCheck(True, None)
    return ManualSyncCheck(False, next_allowed)


def _local_clock(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    same_day = local.date() == now.astimezone(zone).date()
    shown = local.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
    return f"{shown} {local.tzname()}"


def manual_sync_refusal(
    next_allowed_at: datetime, now: datetime, connection_timezone: ZoneInfo | str
) -> str:
    """The sentence a refused manual sync prints, with the local time and minutes to wait."""
    minutes = max(1, math.ceil((next_allowed_at - now).total_seconds() / 60))
    when = _local_clock(next_allowed_at, now, _zone(connection_timezone))
    return (
        f"Manual sync is allowed once per hour; the next is allowed at {when} "
        f"(in {minutes} min). Use --force to override."
    )


def ensure_manual_sync_allowed(
    last_manual_sync_at: datetime | None,
    now: datetime,
    connection_timezone: ZoneInfo | str,
    *,
    force: bool = False,
) -> None:
    """Raise :class:`SyncRefused` with :func:`manual_sync_refusal`'s text when too soon.

    ``force`` (the operator's ``--force``) always allows; the caller records it in the run.
    """
    check = manual_sync_allowed(last_manual_sync_at, now)
    if force or check.allowed or check.next_allowed_at is None:
        return
    text = manual_sync_refusal(check.next_allowed_at, now, connection_timezone)
    message, _, hint = text.partition(" Use --force")
    raise SyncRefused(message, "Use --force" + hint)
