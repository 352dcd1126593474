"""The Celery application: ``celery -A core.scheduling.workers.app worker`` / ``beat``.

Configured from the environment (see :class:`~core.scheduling.workers.settings.WorkerSettings`):
``LEDGERSYNC_BROKER_URL`` (default ``redis://127.0.0.1:6379/0``), ``LEDGERSYNC_DB`` (the
store), ``LEDGERSYNC_QUEUE``, ``LEDGERSYNC_KEY_PREFIX``, ``LEDGERSYNC_BEAT_SECONDS``,
``LEDGERSYNC_CLAIM_SECONDS``, ``LEDGERSYNC_VISIBILITY_TIMEOUT``.

Two tasks: ``ledgersync.enqueue_due`` (beat sends it every ``LEDGERSYNC_BEAT_SECONDS``; it
enqueues each due sync once) and ``ledgersync.sync_connection`` (one sync of one connection).
Messages are acknowledged after the task (``acks_late``): a worker killed mid-sync leaves its
message unacknowledged and the broker hands it to another worker after the visibility timeout;
the dead worker's lease is taken over (at once on the same host, after its TTL elsewhere).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu.exceptions import OperationalError
from redis import RedisError

from core import clock
from core.host import Host
from core.scheduling.events import event_syncs_due
from core.scheduling.workers.claims import RedisClaims
from core.scheduling.workers.dispatch import DueSync, enqueue_due, parse_due_at, run_due_sync
from core.scheduling.workers.event_jobs import enqueue_event_sync, run_event_job
from core.scheduling.workers.settings import WorkerSettings
from core.store.repository import utcnow

__all__ = [
    "SETTINGS",
    "app",
    "create_app",
    "enqueue_due_syncs",
    "enqueue_event_syncs",
    "event_sync",
    "sync_connection",
]

log = logging.getLogger(__name__)

SYNC_TASK = "ledgersync.sync_connection"
ENQUEUE_TASK = "ledgersync.enqueue_due"
EVENT_TASK = "ledgersync.event_sync"


def create_app(settings: WorkerSettings) -> Celery:
    """A Celery app for ``settings`` (the module-level ``app`` reads the environment)."""
    celery = Celery("ledgersync")
    restore_every = max(1, min(10, settings.visibility_timeout // 3))
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "global_keyprefix": settings.key_prefix,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "ledgersync-enqueue-due": {
                "task": ENQUEUE_TASK,
                "schedule": float(settings.beat_seconds),
                # A tick nobody ran before the next one is dropped: the next does its work.
                "options": {"expires": float(settings.beat_seconds)},
            }
        },
    )
    return celery


SETTINGS = WorkerSettings.from_environment()
app = create_app(SETTINGS)
_host: Host | None = None


def worker_host() -> Host:
    """This process's Host (built on first use, after any fork)."""
    global _host
    if _host is None:
        _host = Host(SETTINGS.db_url, create=False)  # a worker never starts an empty store
    return _host


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _forget_parent_host(**_: Any) -> None:
    global _host
    _host = None  # a forked pool process opens its own database connections


@app.task(name=SYNC_TASK)  # type: ignore[untyped-decorator]
def sync_connection(name: str, due_at: str | None = None) -> dict[str, Any]:
    """Sync connection ``name`` once for the due time ``due_at`` (ISO 8601, or None)."""
    return run_due_sync(worker_host(), name, parse_due_at(due_at)).as_dict()


@app.task(name=ENQUEUE_TASK)  # type: ignore[untyped-decorator]
def enqueue_due_syncs() -> int:
    """Enqueue every due sync not enqueued yet for its due time; returns how many."""
    claims = RedisClaims(
        SETTINGS.require_claims_url(), prefix=SETTINGS.key_prefix, ttl=SETTINGS.claim_seconds
    )

    def send(job: DueSync) -> None:
        sync_connection.apply_async(args=(job.name, job.due_at.isoformat()))

    try:
        sent = enqueue_due(
            worker_host(), utcnow(), claim=claims.claim, send=send, release=claims.release
        )
        late = [  # event syncs that fell due without the web process enqueuing them
            enqueue_event_sync(
                worker_host(), due.name, utcnow(), claim=claims.claim, send=send_event_sync
            )
            for due in event_syncs_due(worker_host(), utcnow())
        ]
    finally:
        claims.close()
    return len(sent) + sum(1 for job in late if job is not None)


@app.task(name=EVENT_TASK)  # type: ignore[untyped-decorator]
def event_sync(name: str, due_at: str) -> dict[str, Any]:
    """The event sync of connection ``name`` for the window due at ``due_at`` (ISO 8601)."""
    due = parse_due_at(due_at)
    assert due is not None
    return run_event_job(worker_host(), name, due).as_dict()


def send_event_sync(job: DueSync) -> None:
    """Put ``job`` on the queue to run when its window ends (a countdown, not an ETA, so a
    moved test clock and the broker's clock need not agree)."""
    wait = max(0.0, (job.due_at - clock.now()).total_seconds())
    event_sync.apply_async(args=(job.name, job.due_at.isoformat()), countdown=wait)


def enqueue_event_syncs(host: Host, name: str) -> None:
    """What ``ledgersync serve --workers`` does with an accepted event: claim its connection's
    window once and enqueue its event sync for the workers. With Redis away it logs a warning
    and returns: the event is stored, and beat enqueues the window late."""
    claims = RedisClaims(
        SETTINGS.require_claims_url(), prefix=SETTINGS.key_prefix, ttl=SETTINGS.claim_seconds
    )
    try:
        enqueue_event_sync(
            host,
            name,
            clock.now(),
            claim=claims.claim,
            send=send_event_sync,
            release=claims.release,
        )
    except (RedisError, OperationalError) as error:
        # The event is stored: beat enqueues its window once it falls due and Redis is back.
        # The webhook is still answered 2xx (a 500 would only make the source send it again).
        log.warning(
            "could not enqueue the event sync of %s (%s); beat enqueues it when it falls due",
            name,
            type(error).__name__,
        )
    finally:
        claims.close()
