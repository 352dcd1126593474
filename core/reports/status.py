"""A connection's status: health, last and next sync, manual-sync limit, API calls, quarantine."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.connections.quota import quota_status
from core.connections.schedule import manual_sync_allowed, next_scheduled_sync
from core.host import Host
from core.scheduling.events import event_schedule
from core.states import ConnectionStatus, RunOutcome
from core.store.connection_records import connections_by_name
from core.store.connection_tallies import (
    calls_on,
    documents_by_state,
    unknown_channels,
    unresolved_quarantined,
)
from core.store.repository import connection_info, get_connection, utcnow
from core.store.run_history import last_attempt, last_success_at
from core.sync import leases
from core.sync.reconcile import last_reconcile

if TYPE_CHECKING:  # the store's types, named in signatures only
    from core.store.models import Connection

__all__ = ["connection_state", "status_of", "status_rows"]


def connection_state(status: str, enabled: bool) -> str:
    """One word for people: new, active, failed, disabled or disconnected."""
    if status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.FAILED, ConnectionStatus.NEW):
        return status
    return "active" if enabled else "disabled"


def status_rows(host: Host, name: str | None = None) -> list[dict[str, Any]]:
    """The status of connection ``name``, or of every connection by name."""
    with host.database.session() as session:
        rows = [get_connection(session, name)] if name else connections_by_name(session)
    return [status_of(host, row) for row in rows]


def status_of(host: Host, row: Connection, now: datetime | None = None) -> dict[str, Any]:
    info = connection_info(row)
    now = now or utcnow()
    with host.database.session() as session:
        calls_today = calls_on(session, row.id, now.date())
        quarantined = unresolved_quarantined(session, row.id)
        last_run = last_attempt(session, row.id)
        last_success = last_success_at(session, row.id)
        documents = documents_by_state(session, row.id)
        unknown = unknown_channels(session, row.id)
        quota = quota_status(session, row.id, info.settings.extra, now)
    last_outcome = last_run.outcome if last_run else None
    running = last_outcome == RunOutcome.RUNNING and _sync_alive(host, row.id, now)
    if last_outcome == RunOutcome.RUNNING and not running:
        last_outcome = RunOutcome.INTERRUPTED  # its process is gone; the next sync closes the run
    events = event_schedule(host, row, now)
    allowed, next_manual = manual_sync_allowed(row.last_manual_sync_at, now)
    next_sync = (
        next_scheduled_sync(info.timezone, row.sync_time, row.last_sync_at, now)
        if row.enabled and row.status == ConnectionStatus.ACTIVE
        else None
    )
    return {
        "name": row.name,
        "status": row.status,
        "state": connection_state(row.status, row.enabled),
        "failure_reason": row.failure_reason,
        "enabled": row.enabled,
        "mode": row.mode,
        "channels": list(info.channels) if info.channels is not None else "all",
        "source": row.source,
        "destination": row.destination,
        "organization": row.destination_org,
        "timezone": row.timezone,
        "last_sync": row.last_sync_at,
        "last_outcome": last_outcome,
        "last_success": last_success,
        "last_attempt": last_run.started_at if last_run else None,
        "last_attempt_outcome": last_outcome,
        "last_attempt_error": last_run.error if last_run else None,
        "running": running,
        "pending_documents": documents.get("planned", 0),
        "failed_documents": documents.get("failed", 0),
        "next_scheduled_sync": next_sync,
        "next_manual_sync_allowed": now if allowed else next_manual,
        "paused_until": row.paused_until,
        "api_calls_today": calls_today,
        "api_quota": quota.to_dict() if quota else None,
        "quarantined": quarantined,
        "unknown_channels": unknown,
        "last_event": events.last_event,
        "last_event_at": events.last_event_at,
        "pending_events": events.pending,
        "next_event_sync": events.next_event_sync_at,
        "event_syncs_held": events.held_back or None,
        "event_syncs_deferred": events.deferred or None,
        "last_reconcile": last_reconcile(host, row.id),
    }


def _sync_alive(host: Host, connection_id: int, now: datetime) -> bool:
    """Whether a sync of the connection holds a live lease (so "running" is true)."""
    lease = leases.current_lease(host.database, connection_id)
    return lease is not None and not leases.abandoned(lease, now, socket.gethostname())
