"""Event syncs on the Celery deployment: enqueued once per (connection, window), run by a worker.

No Celery here, as in :mod:`core.scheduling.workers.dispatch`: ``claim`` remembers identities
and ``send`` puts one job on the queue. A window's identity is ``event:<connection>:<due
time>``; its due time is fixed by the first pending event (plus the quiet window) or the last
event sync (plus the interval), so every event of one burst names the same window and the
route (``ledgersync serve --workers``) or beat enqueues it once. The worker runs the event sync
only if events received by the due time are still pending: a daily or manual sync that covered
them meanwhile makes the job a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from core.errors import LedgersyncError, SyncRefused
from core.host import Host
from core.scheduling.events import event_schedule
from core.scheduling.workers.dispatch import DueSync, SyncOutcome
from core.states import SyncTrigger
from core.store.connection_rows import detached_connection_named
from core.store.source_events import events_pending_by
from core.sync.engine import SyncOptions, sync

__all__ = ["enqueue_event_sync", "event_identity", "event_job", "run_event_job"]

log = logging.getLogger(__name__)

Claim = Callable[[Sequence[str]], Sequence[bool]]
Send = Callable[[DueSync], None]


def event_identity(job: DueSync) -> str:
    return f"event:{job.connection_id}:{job.due_at.isoformat()}"


def event_job(host: Host, name: str, now: datetime) -> DueSync | None:
    """The event sync window of connection ``name`` at ``now``, if any events are pending."""
    row = detached_connection_named(host.database, name)
    if row is None:
        return None
    due = event_schedule(host, row, now).next_event_sync_at
    return None if due is None else DueSync(row.id, row.name, due)


def enqueue_event_sync(
    host: Host,
    name: str,
    now: datetime,
    *,
    claim: Claim,
    send: Send,
    release: Callable[[str], None] | None = None,
) -> DueSync | None:
    """Enqueue the event sync window of ``name`` unless it is claimed already; the job sent."""
    job = event_job(host, name, now)
    if job is None or not claim([event_identity(job)])[0]:
        return None
    try:
        send(job)
    except Exception:
        if release is not None:
            release(event_identity(job))
        raise
    log.info("enqueued the event sync of %s due %s", name, job.due_at.isoformat())
    return job


def _pending_by(host: Host, name: str, due: datetime) -> bool:
    return events_pending_by(host.database, name, due)


def run_event_job(host: Host, name: str, due: datetime) -> SyncOutcome:
    """A worker's event sync of ``name`` for the window due at ``due``."""
    if not _pending_by(host, name, due):
        return SyncOutcome(name, "already_synced", reason="its events were covered meanwhile")
    try:
        report = sync(host, name, SyncOptions(trigger=SyncTrigger.EVENT))
    except SyncRefused as refusal:
        log.info("event sync of %s not run: %s", name, refusal.message)
        return SyncOutcome(name, "refused", reason=refusal.message)
    except LedgersyncError as error:
        log.warning("event sync of %s did not start: %s", name, error)
        return SyncOutcome(name, "not_started", reason=str(error))
    return SyncOutcome(name, report.outcome, run_id=report.run_id, reason=report.error)
