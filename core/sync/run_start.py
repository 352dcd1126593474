"""Before a sync runs: may it (:func:`check_may_sync`), for how long its lease lasts, closing
the runs a dead process left "running", and the run's record."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.connections.failure import RESUME
from core.connections.schedule import manual_sync_allowed
from core.connections.settings import missing_settings
from core.contracts import RunInfo
from core.errors import ConfigurationError, SyncRefused
from core.host import Host
from core.states import ConnectionStatus, SyncTrigger
from core.store import runs
from core.store.repository import connection_info
from core.sync.run_report import AlreadySynced, SyncOptions

if TYPE_CHECKING:
    from core.store.models import Connection

__all__ = [
    "ABANDONED",
    "LEASE_TTL",
    "check_may_sync",
    "check_not_synced_since",
    "close_abandoned_runs",
    "lease_holder",
    "lease_ttl",
    "start_run",
]

LEASE_TTL = timedelta(minutes=10)  # LEDGERSYNC_LEASE_TTL_SECONDS overrides it
ABANDONED = "the process running this sync stopped before it finished (closed by the next sync)."


def lease_ttl() -> timedelta:
    """How long a sync's lease lasts unrenewed: LEDGERSYNC_LEASE_TTL_SECONDS or LEASE_TTL."""
    raw = os.environ.get("LEDGERSYNC_LEASE_TTL_SECONDS", "").strip()
    if not raw:
        return LEASE_TTL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise ConfigurationError(
            f"LEDGERSYNC_LEASE_TTL_SECONDS={raw!r} is not a positive number of seconds.",
            f"Unset it for the default ({int(LEASE_TTL.total_seconds())} s) or set e.g. 600.",
        )
    return timedelta(seconds=seconds)


def check_not_synced_since(host: Host, connection_id: int, name: str, since: datetime) -> None:
    last = runs.last_sync_at(host.database, connection_id)
    if last is not None and last >= since:
        raise AlreadySynced(
            f"{name!r} has synced since it was due (last sync {last:%Y-%m-%d %H:%M:%S %Z}).",
            "Nothing to do until it is due again.",
        )


def lease_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def check_may_sync(row: Connection, options: SyncOptions, now: datetime) -> None:
    name = row.name
    if row.status == ConnectionStatus.DISCONNECTED:
        raise SyncRefused(
            f"connection {name!r} is disconnected.",
            f"Reconnect it to sync: see `ledgersync status {name}`.",
        )
    info = connection_info(row)
    if row.status == ConnectionStatus.FAILED:
        reason = (row.failure_reason or "its authorization was refused").rstrip(". ")
        raise SyncRefused(
            f"connection {name!r} has failed and its sync is paused: {reason}.", RESUME
        )
    if not row.enabled:
        raise SyncRefused(
            f"sync is disabled for {name!r}.", f"Enable it with `ledgersync enable {name}`."
        )
    if missing := info.settings.missing():
        raise missing_settings(name, missing)
    if options.trigger == SyncTrigger.MANUAL and not (options.force or options.dry_run):
        allowed, next_at = manual_sync_allowed(row.last_manual_sync_at, now)
        if not allowed and next_at is not None:
            local = next_at.astimezone(info.timezone)
            minutes = max(1, int((next_at - now).total_seconds() // 60) + 1)
            raise SyncRefused(
                f"manual sync is allowed once per hour; the next is allowed at "
                f"{local:%Y-%m-%d %H:%M %Z} (in {minutes} min).",
                "Use --force to override.",
            )


def close_abandoned_runs(host: Host, connection_id: int, now: datetime) -> int:
    """Mark "interrupted" every run still "running" (call holding the lease: none can be
    alive); their process stopped before it could say so (kill -9, power loss)."""
    return runs.close_abandoned_runs(host.database, connection_id, now, ABANDONED)


def start_run(host: Host, connection_id: int, options: SyncOptions, now: datetime) -> RunInfo:
    run_id, connection = runs.start_run(
        host.database,
        connection_id,
        trigger=options.trigger,
        forced=options.force,
        dry_run=options.dry_run,
        started_at=now,
    )
    return RunInfo(
        id=run_id,
        connection=connection,
        trigger=options.trigger,
        started_at=now,
        dry_run=options.dry_run,
    )
