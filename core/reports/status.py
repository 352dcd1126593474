"""A connection's status: health, last and next sync, manual-sync limit, API calls, quarantine."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.connections.quota import quota_status
from core.connections.schedule import manual_sync_allowed, next_scheduled_sync
from core.host import Host
from core.scheduling.events import event_schedule
from core.states import ConnectionStatus, DocumentState, RunOutcome
from core.store.models import (
    ApiUsage,
    Connection,
    DocumentRow,
    QuarantinedRecord,
    Run,
    SourceRecord,
)
from core.store.repository import connection_info, get_connection, utcnow
from core.sync import leases
from core.sync.reconcile import last_reconcile

__all__ = ["connection_state", "status_of", "status_rows"]


def connection_state(status: str, enabled: bool) -> str:
    """One word for people: new, active, failed, disabled or disconnected."""
    if status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.FAILED, ConnectionStatus.NEW):
        return status
    return "active" if enabled else "disabled"


def status_rows(host: Host, name: str | None = None) -> list[dict[str, Any]]:
    """The status of connection ``name``, or of every connection by name."""
    with host.database.session() as session:
        if name:
            rows = [get_connection(session, name)]
        else:
            rows = list(session.scalars(select(Connection).order_by(Connection.name)))
    return [status_of(host, row) for row in rows]


def status_of(host: Host, row: Connection, now: datetime | None = None) -> dict[str, Any]:
    info = connection_info(row)
    now = now or utcnow()
    with host.database.session() as session:
        calls_today = session.scalar(
            select(func.coalesce(func.sum(ApiUsage.calls), 0)).where(
                ApiUsage.connection_id == row.id, ApiUsage.day == now.date()
            )
        )
        quarantined = session.scalar(
            select(func.count()).where(
                QuarantinedRecord.connection_id == row.id, QuarantinedRecord.resolved_at.is_(None)
            )
        )
        last_run = session.scalar(
            select(Run)
            .where(Run.connection_id == row.id, Run.dry_run.is_(False))
            .order_by(Run.id.desc())
            .limit(1)
        )
        last_success = session.scalar(
            select(func.max(Run.started_at)).where(
                Run.connection_id == row.id,
                Run.dry_run.is_(False),
                Run.outcome == RunOutcome.SUCCEEDED,
            )
        )
        documents = _documents_by_state(session, row.id)
        unknown = _unknown_channels(session, row.id)
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


def _documents_by_state(session: Session, connection_id: int) -> dict[str, int]:
    rows = session.execute(
        select(DocumentRow.state, func.count())
        .where(
            DocumentRow.connection_id == connection_id, DocumentRow.state != DocumentState.DELIVERED
        )
        .group_by(DocumentRow.state)
    )
    return {str(state): int(count) for state, count in rows}


def _sync_alive(host: Host, connection_id: int, now: datetime) -> bool:
    """Whether a sync of the connection holds a live lease (so "running" is true)."""
    lease = leases.current_lease(host.database, connection_id)
    return lease is not None and not leases.abandoned(lease, now, socket.gethostname())


def _unknown_channels(session: Session, connection_id: int) -> dict[str, int]:
    rows = session.execute(
        select(SourceRecord.raw_channel, func.count())
        .where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "charge",
            SourceRecord.channel.is_(None),
        )
        .group_by(SourceRecord.raw_channel)
    )
    return {str(raw): count for raw, count in rows}
