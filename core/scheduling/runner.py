"""The host scheduler's entry: which connections are due, run them, probe health daily."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from core.connections import alerts
from core.connections.failure import mark_failed
from core.connections.schedule import next_scheduled_sync
from core.errors import LedgersyncError, SyncRefused
from core.host import Host
from core.states import SyncTrigger
from core.store.connection_rows import (
    active_connection_names,
    restored_since_last_sync,
    working_connections,
)
from core.store.host_entries import host_entry
from core.store.repository import connection_info, get_connection, utcnow
from core.sync.engine import SyncOptions, SyncReport, sync

if TYPE_CHECKING:  # the store's types, named in signatures only
    from core.store.models import Connection

__all__ = [
    "FIRST_SYNC",
    "DueConnection",
    "DueRun",
    "due_connections",
    "due_now",
    "probe_health",
    "run_due",
]

log = logging.getLogger(__name__)
HEALTH_EVERY = timedelta(days=1)
HEALTH_KEY = "host:last_health_probe"
FIRST_SYNC = datetime(1970, 1, 1, tzinfo=UTC)  # the due time of a connection never synced


@dataclass(frozen=True, slots=True)
class DueRun:
    name: str
    report: SyncReport | None
    refused: str = ""


@dataclass(frozen=True, slots=True)
class DueConnection:
    """A connection due at some ``now``, and the instant it became due (its due sync's identity):
    the end of a pause, the reconnection after a failure, the daily occurrence after its last
    sync, or :data:`FIRST_SYNC` for one that never synced. Never later than that ``now``."""

    connection_id: int
    name: str
    due_at: datetime


def due_now(host: Host, now: datetime) -> list[DueConnection]:
    """Enabled, working connections whose daily sync (or resume) time has come at ``now``.

    Whether a connection is due and since when are read from one snapshot of its row: a sync
    that commits meanwhile cannot make a due connection look due at a later, future time.
    """
    due: list[DueConnection] = []
    with host.database.session() as session:
        rows = working_connections(session)
        restored = restored_since_last_sync(session)
        for row in rows:
            since = _due_since(row, restored.get(row.id), now)
            if since is not None and since <= now:
                due.append(DueConnection(row.id, row.name, since))
    return due


def _due_since(row: Connection, restored_at: datetime | None, now: datetime) -> datetime | None:
    if restored_at is not None:  # reconnected after a failure: catch up at once
        return min(restored_at, now)
    if row.paused_until is not None:
        return row.paused_until
    if row.last_sync_at is None:
        return FIRST_SYNC
    zone = connection_info(row).timezone
    return next_scheduled_sync(zone, row.sync_time, row.last_sync_at, now)


def due_connections(host: Host, now: datetime) -> list[str]:
    """Names of the connections :func:`due_now` finds."""
    return [due.name for due in due_now(host, now)]


def run_due(host: Host, now: datetime | None = None) -> list[DueRun]:
    """Probe health where a day has passed, then sync every due connection once."""
    now = now or utcnow()
    _probe_due_health(host, now)
    results: list[DueRun] = []
    for name in due_connections(host, now):
        try:
            report = sync(host, name, SyncOptions(trigger=SyncTrigger.SCHEDULED, now=now))
            results.append(DueRun(name, report))
        except SyncRefused as refusal:
            results.append(DueRun(name, None, str(refusal)))
        except LedgersyncError as error:
            log.warning("scheduled sync of %s did not start: %s", name, error)
            results.append(DueRun(name, None, str(error)))
        except Exception as error:  # one connection's trouble must not stop the others
            log.exception("scheduled sync of %s did not start", name)
            results.append(DueRun(name, None, f"{type(error).__name__}: {error}"))
    alerts.retry_unsent(host.database, host.plugins, utcnow())  # e-mails that did not go out
    return results


def _probe_due_health(host: Host, now: datetime) -> None:
    names = active_connection_names(host.database)
    for name in names:
        with host.database.session() as session:
            connection_id = get_connection(session, name).id
            entry = host_entry(session, connection_id, HEALTH_KEY)
            last = datetime.fromisoformat(entry.value) if entry else None
        if last is None or now - last >= HEALTH_EVERY:
            probe_health(host, name, now)


def probe_health(host: Host, name: str, now: datetime | None = None) -> dict[str, str]:
    """Check the source and destination; an authorization failure marks the connection failed."""
    now = now or utcnow()
    results: dict[str, str] = {}
    info = None
    for side in ("source", "destination"):
        try:
            plugin, calls = (
                host.open_source(name) if side == "source" else host.open_destination(name)
            )
            health = plugin.health()
        except LedgersyncError as error:
            results[side] = f"error: {error}"
            continue
        except Exception as error:  # a broken plugin must not stop the other connections
            log.exception("health probe of %s's %s failed", name, side)
            results[side] = f"error: {type(error).__name__}: {error}"
            continue
        with host.database.session() as session:
            calls.flush(session, get_connection(session, name).id)
        results[side] = "ok" if health.ok else health.detail
        if health.authorization_failed:
            with host.database.session() as session:
                info = connection_info(get_connection(session, name))
            mark_failed(host, info, f"{side}: {health.detail}", now)
    with host.database.session() as session:
        connection_id = get_connection(session, name).id
    host.cache(connection_id).set(HEALTH_KEY, now.isoformat())
    return results
