"""Event syncs: a connection with pending webhook events syncs sooner than its daily time.

Which connections are due is read from the store (pending events, the last event sync, the
quota share left less the daily sync's forecast need: :mod:`core.sync.event_budget`), so every
process that asks agrees; :func:`run_due_event_syncs`
runs them through the engine with ``trigger="event"`` (the same lease as every sync, never
counted against the manual once-an-hour limit). :class:`EventSyncLoop` is the thread of
``ledgersync serve`` that does this as events arrive; the debounce follows the injected clock,
and ``tick(now)`` drives it by hand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core import clock
from core.connections.event_timing import event_timing, next_event_sync
from core.errors import LedgersyncError
from core.host import Host
from core.states import ConnectionStatus, SyncTrigger
from core.store.connection_rows import enabled_connections
from core.store.repository import connection_info
from core.store.run_history import last_event_sync_at
from core.sync.engine import SyncOptions, SyncReport, sync
from core.sync.event_budget import event_budget
from core.sync.events import event_backlog

if TYPE_CHECKING:  # the store's types, named in signatures only
    from core.store.models import Connection

__all__ = [
    "DueEventSync",
    "EventSchedule",
    "EventSyncLoop",
    "event_schedule",
    "event_syncs_due",
    "run_due_event_syncs",
]

log = logging.getLogger(__name__)
IDLE_CHECK = timedelta(seconds=30)  # the loop looks again at least this often


@dataclass(frozen=True, slots=True)
class EventSchedule:
    """One connection's events as ``status`` shows them."""

    last_event_at: datetime | None
    last_event: str | None
    pending: int
    next_event_sync_at: datetime | None
    held_back: str = ""  # why no event sync may run (disabled, failed, paused)
    deferred: str = ""  # why the next one waits for the quota's reset (the daily sync's need)


@dataclass(frozen=True, slots=True)
class DueEventSync:
    name: str
    due_at: datetime


def _held_back(row: Connection, now: datetime) -> str:
    if row.status in (ConnectionStatus.FAILED, ConnectionStatus.DISCONNECTED):
        return f"the connection is {row.status}"
    if not row.enabled:
        return "sync is disabled"
    if row.paused_until is not None and row.paused_until > now:
        return "paused by the daily API limit"
    return ""


def event_schedule(host: Host, row: Connection, now: datetime) -> EventSchedule:
    """The events of connection ``row`` and when they may next make it sync."""
    backlog = event_backlog(host.database, row.id)
    timing = event_timing(connection_info(row))
    held = _held_back(row, now)
    due = next_event_sync(
        backlog.first_pending_at, last_event_sync_at(host.database, row.id), timing
    )
    deferred = ""
    if due is not None and not held:
        budget = event_budget(host, row, now)
        deferred = budget.deferral()
        if deferred:  # it waits for the quota's reset, when the share is whole again
            due = max(due, budget.resets_at)
    return EventSchedule(
        last_event_at=backlog.last_received_at,
        last_event=backlog.last_event,
        pending=backlog.pending,
        next_event_sync_at=None if held else due,
        held_back=held,
        deferred=deferred,
    )


def event_syncs_due(host: Host, now: datetime) -> list[DueEventSync]:
    """Connections whose pending events make an event sync due at ``now``, by due time."""
    rows = enabled_connections(host.database)
    due: list[DueEventSync] = []
    for row in rows:
        at = event_schedule(host, row, now).next_event_sync_at
        if at is not None and at <= now:
            due.append(DueEventSync(row.name, at))
    return sorted(due, key=lambda item: (item.due_at, item.name))


def next_due_at(host: Host, now: datetime) -> datetime | None:
    """The soonest time any connection's event sync may run."""
    rows = enabled_connections(host.database)
    times = [event_schedule(host, row, now).next_event_sync_at for row in rows]
    return min((t for t in times if t is not None), default=None)


def run_due_event_syncs(
    host: Host, now: datetime | None = None
) -> list[tuple[str, SyncReport | str]]:
    """Run each due event sync once: its report, or why it was refused."""
    moment = now or clock.now()
    results: list[tuple[str, SyncReport | str]] = []
    for item in event_syncs_due(host, moment):
        try:
            report = sync(host, item.name, SyncOptions(trigger=SyncTrigger.EVENT, now=now))
        except LedgersyncError as error:  # running already (the lease), disabled meanwhile
            log.info("event sync of %s not run: %s", item.name, error)
            results.append((item.name, str(error)))
            continue
        log.info("event sync of %s: %s", item.name, report.outcome)
        results.append((item.name, report))
    return results


class EventSyncLoop:
    """The thread of ``ledgersync serve`` that runs event syncs when they fall due.

    ``poke`` (the webhook route calls it) wakes it to look again; otherwise it looks when the
    next event sync falls due, and at least every :data:`IDLE_CHECK`."""

    def __init__(
        self,
        host: Host,
        runner: Callable[[Host], list[tuple[str, SyncReport | str]]] = run_due_event_syncs,
    ) -> None:
        self.host = host
        self._runner = runner
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poke(self, _connection: str = "") -> None:
        self._wake.set()

    def tick(self) -> float:
        """Run what is due now; the seconds until the next look."""
        try:
            results = self._runner(self.host)
            upcoming = next_due_at(self.host, clock.now())
        except Exception:  # the store may be away for a while: keep the loop
            log.exception("event syncs failed")
            return IDLE_CHECK.total_seconds()
        if upcoming is None or any(isinstance(outcome, str) for _, outcome in results):
            # nothing pending, or a sync was refused (its lease held): look again later
            return IDLE_CHECK.total_seconds()
        wait = (upcoming - clock.now()).total_seconds()
        return min(max(wait, 0.05), IDLE_CHECK.total_seconds())

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.tick()
            self._wake.wait(wait)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="ledgersync-event-syncs", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
