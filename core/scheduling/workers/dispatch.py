"""Which syncs are due, enqueued once per (connection, due time), and what a worker does with one.

No Celery here: ``enqueue_due`` takes a ``claim`` (remember identities, say which are new) and a
``send`` (put one job on the queue), so it is the same whatever carries the jobs.

A due sync's identity is its connection and the instant it became due: the daily occurrence
after the last sync, the end of a pause, or :data:`FIRST_SYNC` for a connection that never
synced. Beat enqueues each identity once while its claim lives; a worker runs it with
``unless_synced_since=due_at``, which the engine checks under the lease, so a second message
for the same due time (a redelivery, a claim that expired) ends as "already synced".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import LedgersyncError, SyncRefused
from core.host import Host
from core.scheduling.runner import FIRST_SYNC, due_now
from core.states import SyncTrigger
from core.sync.engine import AlreadySynced, SyncOptions, sync

__all__ = [
    "FIRST_SYNC",
    "DueSync",
    "SyncOutcome",
    "due_syncs",
    "enqueue_due",
    "parse_due_at",
    "run_due_sync",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DueSync:
    """One due sync: enqueued at most once per claim."""

    connection_id: int
    name: str
    due_at: datetime

    @property
    def identity(self) -> str:
        return f"{self.connection_id}:{self.due_at.isoformat()}"


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What a worker did with one job: ``succeeded``/``incomplete``/``failed``/``paused`` (a
    run happened), ``already_synced`` or ``refused`` (normal: nothing to do or someone else
    is syncing), ``not_started`` (the connection cannot sync, e.g. missing settings)."""

    connection: str
    outcome: str
    run_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "outcome": self.outcome,
            "run_id": self.run_id,
            "reason": self.reason,
        }


def due_syncs(host: Host, now: datetime) -> list[DueSync]:
    """Every connection due at ``now`` (as the host scheduler sees it) with its due time, read
    from one snapshot of each row; a due time later than ``now`` is never a due sync."""
    return [
        DueSync(due.connection_id, due.name, due.due_at)
        for due in due_now(host, now)
        if due.due_at <= now
    ]


Claim = Callable[[Sequence[str]], Sequence[bool]]  # identities -> which were not claimed yet
Send = Callable[[DueSync], None]


def enqueue_due(
    host: Host,
    now: datetime,
    *,
    claim: Claim,
    send: Send,
    release: Callable[[str], None] | None = None,
) -> list[DueSync]:
    """Send every due sync not claimed yet; returns what was sent.

    A job whose send fails gives its claim back (``release``) so the next beat tries again.
    """
    due = due_syncs(host, now)
    fresh = claim([job.identity for job in due])
    sent: list[DueSync] = []
    for job, new in zip(due, fresh, strict=True):
        if not new:
            continue
        try:
            send(job)
        except Exception:
            if release is not None:
                release(job.identity)
            raise
        sent.append(job)
    if sent:
        log.info("enqueued %d due sync(s) of %d due", len(sent), len(due))
    return sent


def parse_due_at(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"due time {text!r} has no UTC offset")
    return value


def run_due_sync(host: Host, name: str, due: datetime | None) -> SyncOutcome:
    """Sync ``name`` as a worker. Refusals (lease held, already synced, disabled) are normal
    outcomes, returned and logged, not raised: the queue must not retry them."""
    options = SyncOptions(trigger=SyncTrigger.WORKER, unless_synced_since=due)
    try:
        report = sync(host, name, options)
    except AlreadySynced as done:
        return SyncOutcome(name, "already_synced", reason=done.message)
    except SyncRefused as refusal:
        log.info("sync of %s not run: %s", name, refusal.message)
        return SyncOutcome(name, "refused", reason=refusal.message)
    except LedgersyncError as error:
        log.warning("sync of %s did not start: %s", name, error)
        return SyncOutcome(name, "not_started", reason=str(error))
    return SyncOutcome(name, report.outcome, run_id=report.run_id, reason=report.error)
