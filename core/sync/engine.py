"""One sync of one connection: ingest -> plan -> deliver -> report.

Each step commits on its own, so a crash anywhere leaves a state the next run finishes:
records are upserted, planning is one transaction (the outbox), delivery binds each document
in the transaction that marks it delivered, and the source's bookmark advances only after
what it covers is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from core.connections import alerts
from core.connections.failure import mark_failed
from core.connections.quota import share_guard
from core.connections.settings import refund_lookback_days
from core.contracts import FetchWindow, RunInfo
from core.errors import (
    AuthorizationFailed,
    DailyLimitReached,
    EventSyncDeferred,
    LedgersyncError,
    SyncRefused,
)
from core.host import Host
from core.states import RunOutcome, SyncMode, SyncTrigger
from core.store import runs
from core.store.repository import CallCounter, get_connection, utcnow
from core.store.sync_periods import first_sync_start
from core.sync import leases
from core.sync.adoption import adoption_pending, keys_to_look_up, mark_adopted
from core.sync.claims import claim_organization
from core.sync.confirm import confirm_charge_events
from core.sync.delivery import deliver_planned, delivered_in_run, documents_left
from core.sync.event_budget import daily_need
from core.sync.forecast import document_costs, forecast_for
from core.sync.ingest import store_items
from core.sync.payouts import plan_payouts
from core.sync.planning import plan_connection
from core.sync.rejections import alert_rejections
from core.sync.run_end import failed, finish_run, paused, succeeded, unexpected
from core.sync.run_report import AlreadySynced, Progress, SyncOptions, SyncReport
from core.sync.run_start import (
    ABANDONED,
    check_may_sync,
    check_not_synced_since,
    close_abandoned_runs,
    lease_holder,
    lease_ttl,
    start_run,
)
from core.sync.watch import SCHEDULED, reconcile_after_sync

if TYPE_CHECKING:
    from core.store.runs import SourceProgress

__all__ = [
    "ABANDONED",
    "AlreadySynced",
    "SyncOptions",
    "SyncReport",
    "close_abandoned_runs",
    "lease_ttl",
    "sync",
]

log = logging.getLogger(__name__)

INGEST_BATCH = 500
OVERLAP = timedelta(days=3)  # re-read recent charges so late arrivals are not missed


def _window(progress: SourceProgress, now: datetime, earliest: datetime) -> FetchWindow:
    start = earliest
    if progress.fetched_until:
        start = max(earliest, datetime.fromisoformat(progress.fetched_until) - OVERLAP)
    lookback = refund_lookback_days(progress.extra)
    refunds_since = max(earliest, now - timedelta(days=lookback))
    return FetchWindow(start=start, end=now, refunds_since=min(refunds_since, start))


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


def sync(host: Host, name: str, options: SyncOptions | None = None) -> SyncReport:
    """Run one sync of connection ``name``; raises SyncRefused when it may not run now."""
    options = options or SyncOptions()
    now = options.now or utcnow()
    with host.database.session() as session:
        row = get_connection(session, name)
        check_may_sync(row, options, now)
        connection_id = row.id
    holder = lease_holder()
    ttl = lease_ttl()
    lease = leases.acquire(host.database, connection_id, holder=holder, ttl=ttl, clock=utcnow)
    if lease is None:
        raise SyncRefused(
            f"a sync of {name!r} is already running.",
            "Wait for it to finish; see `ledgersync status`.",
        )
    try:
        close_abandoned_runs(host, connection_id, now)
        if options.unless_synced_since is not None:
            check_not_synced_since(host, connection_id, name, options.unless_synced_since)
        report = _run(host, name, connection_id, options, now, holder)
    finally:
        leases.release(host.database, connection_id, holder=holder)
    if (
        options.trigger == SyncTrigger.MANUAL and not options.dry_run
    ):  # run-due retries for the others
        alerts.retry_unsent(host.database, host.plugins, utcnow(), connection_id)
    if (
        options.trigger in SCHEDULED
        and report.outcome == RunOutcome.SUCCEEDED
        and not options.dry_run
    ):
        reconcile_after_sync(host, name, now)  # notices what only a person can settle
    return report


def _run(
    host: Host, name: str, connection_id: int, options: SyncOptions, now: datetime, holder: str
) -> SyncReport:
    run = start_run(host, connection_id, options, now)
    report = SyncReport(connection=name, run_id=run.id)
    host.plugins.sync_started(run)
    source_calls: CallCounter | None = None
    destination_calls: CallCounter | None = None
    try:
        source, source_calls = host.open_source(name)
        _ingest(host, run, source, report, now, options)
        confirmed = confirm_charge_events(host.database, connection_id, source, now, now)
        report.fetched += confirmed.confirmed
        leases.renew(host.database, connection_id, holder=holder, ttl=lease_ttl(), clock=utcnow)
        if options.trigger == SyncTrigger.EVENT and run.connection.mode == SyncMode.BULK:
            # Bulk books closed days at the daily sync: events only refresh the records.
            report.outcome = RunOutcome.SUCCEEDED
            succeeded(host, run, report, now, options)
            return report
        # An event sync leaves the daily sync what it is forecast to need (before this run
        # plans the events' own documents, which are this run's work).
        keep = (
            daily_need(host, name, connection_id, now)
            if options.trigger == SyncTrigger.EVENT
            else 0
        )
        mapper = host.plugins.mapper(run.connection.mode)()
        with host.database.session() as session:
            outcome = plan_connection(
                session, connection_id, mapper, now, run_id=run.id, dry_run=options.dry_run
            )
            payouts = plan_payouts(
                session,
                connection_id,
                run.connection.settings,
                now,
                run_id=run.id,
                dry_run=options.dry_run,
            )
        report.documents_planned.update(outcome.documents)
        report.documents_planned.update(payouts.documents)
        report.held_payouts = dict(payouts.held)
        report.skipped.update(outcome.skipped)
        report.quarantined += outcome.quarantined
        report.unknown_channels.update(getattr(outcome, "unknown_channels", {}) or {})
        if options.dry_run:
            report.planned_documents = list(getattr(outcome, "planned", []) or [])
            report.planned_documents += payouts.planned
            report.forecast = forecast_for(host, name, report.planned_documents, now)
            report.outcome = RunOutcome.SUCCEEDED
            return report
        destination, destination_calls = host.open_destination(name)
        # One live store per organization: refused here, before anything is written.
        claimed = claim_organization(host.database, connection_id, destination, now)
        if claimed is not None and claimed.replaced is not None:
            log.warning("%s: took over the organization's claim from another store", name)
        keeper = leases.LeaseKeeper(host.database, connection_id, holder=holder, ttl=lease_ttl())
        adopting = adoption_pending(host.database, connection_id)
        look_first: bool | set[str] = False
        if adopting:  # the store's first delivery here: adopt what an earlier store wrote
            found = keys_to_look_up(host.database, connection_id, destination)
            look_first = True if found is None else found
        delivery = deliver_planned(
            host.database,
            connection_id,
            destination,
            run.connection.settings,
            run_id=run.id,
            on_progress=_delivery_progress(keeper, options.progress),
            look_first=look_first,
            budget=share_guard(host.database, run.connection, destination_calls, now, keep=keep),
            cost=document_costs(host, name),
        )
        if adopting and delivery.complete:
            mark_adopted(host.database, connection_id, utcnow())
        report.documents_delivered.update(delivery.delivered)
        report.adopted.update(delivery.adopted)
        report.recovered = delivery.recovered
        report.pending = delivery.pending
        report.failed_documents = list(delivery.failed)
        alert_rejections(host, run.connection, report.failed_documents, now)
        if delivery.stopped_by is not None:
            raise delivery.stopped_by
        report.outcome = RunOutcome.SUCCEEDED if not delivery.pending else RunOutcome.INCOMPLETE
        succeeded(host, run, report, now, options)
    except AuthorizationFailed as error:
        report.outcome, report.error = RunOutcome.FAILED, str(error)
        mark_failed(host, run.connection, error.message, now, hint=error.hint)
    except EventSyncDeferred as error:  # not a pause: the daily sync runs as usual
        report.outcome, report.error = RunOutcome.INCOMPLETE, str(error)
        log.info("event sync of %s deferred: %s", name, error)
    except DailyLimitReached as error:
        resume = paused(host, run, error, now)
        left = report.pending = documents_left(host.database, connection_id)
        report.outcome = RunOutcome.PAUSED
        report.error = (
            f"{error.message}; resumes at {resume:%Y-%m-%d %H:%M} UTC: {left:,} "
            f"document{'' if left == 1 else 's'} left. {error.hint}".strip()
        )
    except LedgersyncError as error:
        report.outcome, report.error = RunOutcome.FAILED, str(error)
        failed(host, run, report, now)
    except Exception as error:
        report.outcome, report.error = RunOutcome.FAILED, unexpected(error, host)
        log.exception("sync of %s failed", name)
        failed(host, run, report, now)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under interrupts_on_signals
        report.outcome = RunOutcome.INTERRUPTED
        report.error = f"interrupted by {stop.args[0] if stop.args else 'SIGINT'}."
        raise
    finally:
        if destination_calls is not None and report.outcome != RunOutcome.SUCCEEDED:
            # Delivery raised part-way (authorization, daily limit): count from the store.
            report.documents_delivered = delivered_in_run(host.database, connection_id, run.id)
        report.api_calls = sum(c.total for c in (source_calls, destination_calls) if c)
        finish_run(host, run, report, source_calls, destination_calls)
        host.plugins.sync_finished(run, report.summary())
    return report


def _delivery_progress(
    keeper: leases.LeaseKeeper, progress: Progress | None
) -> Callable[[int, int | None], None]:
    """Renew the lease as delivery goes (stopping if it was lost) and report progress."""

    def on_progress(done: int, total: int | None) -> None:
        keeper()
        if progress is not None:
            progress("deliver", done, total)

    return on_progress


def _ingest(
    host: Host,
    run: RunInfo,
    source: Any,
    report: SyncReport,
    now: datetime,
    options: SyncOptions,
) -> None:
    with host.database.session() as session:
        earliest = first_sync_start(session, run.connection.id)
    if earliest is None:
        return
    progress = runs.source_progress(host.database, run.connection.id)
    window = _window(progress, now, earliest)
    state: dict[str, Any] = progress.bookmark
    items = source.fetch(window, state)
    for batch in _chunks(iter(items), INGEST_BATCH):
        with host.database.session() as session:
            counts = store_items(session, run.connection.id, batch, now)
        report.fetched += len(batch)
        report.quarantined += counts.quarantined
        if options.progress:
            options.progress("fetch", report.fetched, None)
    runs.save_source_progress(host.database, run.connection.id, state, window.end)
