"""When events may make a connection sync sooner: the quiet window and the interval.

The first pending event opens a quiet window (default one minute) so that a burst becomes one
sync; event syncs of one connection start at most once every N minutes (default 15). The values
live in the connection's settings (``extra``: ``event_quiet_seconds``, ``event_sync_minutes``).
What event syncs may spend of the destination's quota is :mod:`core.sync.event_budget`: the
share left today less what the daily sync is forecast to need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.contracts import ConnectionInfo
from core.errors import ConfigurationError
from core.store.database import Database
from core.store.repository import get_connection

__all__ = [
    "EventTiming",
    "check_event_timing",
    "event_timing",
    "next_event_sync",
    "set_event_timing",
]

QUIET = timedelta(seconds=60)
EVERY = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class EventTiming:
    quiet: timedelta = QUIET
    every: timedelta = EVERY


def _number(extra: Any, key: str, default: float) -> float:
    try:
        value = float(extra.get(key, default))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


def event_timing(connection: ConnectionInfo) -> EventTiming:
    extra = connection.settings.extra
    return EventTiming(
        quiet=timedelta(seconds=_number(extra, "event_quiet_seconds", QUIET.total_seconds())),
        every=timedelta(minutes=_number(extra, "event_sync_minutes", EVERY.total_seconds() / 60)),
    )


def next_event_sync(
    first_pending_at: datetime | None,
    last_event_sync_at: datetime | None,
    timing: EventTiming,
) -> datetime | None:
    """When the next event sync may start: the end of the quiet window the first pending event
    opened, and not before ``every`` after the last event sync; None with nothing pending."""
    if first_pending_at is None:
        return None
    due = first_pending_at + timing.quiet
    if last_event_sync_at is not None:
        due = max(due, last_event_sync_at + timing.every)
    return due


def check_event_timing(
    *,
    every_minutes: float | None = None,
    quiet_seconds: float | None = None,
) -> dict[str, str]:
    """The given timing values as settings, or a ConfigurationError for one out of range."""
    changes: dict[str, str] = {}
    for key, value, low, high in (
        ("event_sync_minutes", every_minutes, 1, 24 * 60),
        ("event_quiet_seconds", quiet_seconds, 0, 3600),
    ):
        if value is None:
            continue
        if not low <= value <= high:
            raise ConfigurationError(
                f"{key.replace('_', ' ')} {value:g} is out of range.",
                f"Give a number from {low} to {high}.",
            )
        changes[key] = f"{value:g}"
    return changes


def set_event_timing(
    database: Database,
    name: str,
    *,
    every_minutes: float | None = None,
    quiet_seconds: float | None = None,
) -> None:
    """Store the given timing values in connection ``name``'s settings."""
    changes = check_event_timing(every_minutes=every_minutes, quiet_seconds=quiet_seconds)
    if not changes:
        return
    with database.session() as session:
        row = get_connection(session, name)
        settings = dict(row.settings or {})
        settings["extra"] = {**(settings.get("extra") or {}), **changes}
        row.settings = settings
