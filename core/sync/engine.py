"""One sync of one connection: ingest -> plan -> deliver -> report.

Each step commits on its own, so a crash anywhere leaves a state the next run finishes:
records are upserted, planning is one transaction (the outbox), delivery binds each document
in the transaction that marks it delivered, and the source's bookmark advances only after
what it covers is stored.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.connections import alerts
from core.connections.failure import RESUME, connection_notice, mark_failed
from core.connections.lifecycle import missing_settings, refund_lookback_days
from core.connections.quota import share_guard
from core.connections.schedule import manual_sync_allowed
from core.contracts import FetchWindow, NoticeKind, RunInfo, RunSummary
from core.errors import (
    AuthorizationFailed,
    ConfigurationError,
    DailyLimitReached,
    EventSyncDeferred,
    LedgersyncError,
    SyncRefused,
)
from core.host import Host
from core.states import ConnectionStatus, RunOutcome, SyncMode, SyncTrigger
from core.store.models import Connection, QuarantinedRecord, Run, SyncPeriod
from core.store.problems import store_problem
from core.store.repository import CallCounter, connection_info, get_connection, utcnow
from core.sync import leases
from core.sync.adoption import adoption_pending, keys_to_look_up, mark_adopted
from core.sync.claims import claim_organization
from core.sync.confirm import confirm_charge_events
from core.sync.delivery import deliver_planned, delivered_in_run, documents_left
from core.sync.event_budget import daily_need
from core.sync.events import mark_handled
from core.sync.forecast import Forecast, document_costs, forecast_for
from core.sync.ingest import store_items
from core.sync.payouts import plan_payouts
from core.sync.planning import plan_connection
from core.sync.rejections import alert_rejections
from core.sync.watch import SCHEDULED, reconcile_after_sync

__all__ = ["AlreadySynced", "SyncOptions", "SyncReport", "lease_ttl", "sync"]

log = logging.getLogger(__name__)

INGEST_BATCH = 500
OVERLAP = timedelta(days=3)  # re-read recent charges so late arrivals are not missed
LEASE_TTL = timedelta(minutes=10)  # LEDGERSYNC_LEASE_TTL_SECONDS overrides it
FAILURES_BEFORE_ALERT = 3

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class SyncOptions:
    trigger: SyncTrigger = SyncTrigger.MANUAL
    force: bool = False
    dry_run: bool = False
    now: datetime | None = None
    progress: Progress | None = None
    # Workers pass the due time they answer: under the lease, a connection that has synced
    # since then is not synced again (AlreadySynced), so a duplicate message is a no-op.
    unless_synced_since: datetime | None = None


@dataclass(slots=True)
class SyncReport:
    """What one run did; also stored as the run record."""

    connection: str
    run_id: int | None
    outcome: RunOutcome = RunOutcome.RUNNING
    fetched: int = 0
    quarantined: int = 0
    documents_planned: Counter[str] = field(default_factory=Counter)
    documents_delivered: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    adopted: Counter[str] = field(default_factory=Counter)
    pending: int = 0
    failed_documents: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_channels: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    error: str = ""
    planned_documents: list[Any] = field(default_factory=list)  # dry run only
    held_payouts: dict[str, str] = field(default_factory=dict)  # payout id -> why
    forecast: Forecast | None = None  # dry run only: the destination calls the work needs

    def summary(self) -> RunSummary:
        return RunSummary(
            outcome=self.outcome,
            documents=dict(self.documents_delivered),
            api_calls=self.api_calls,
            quarantined=self.quarantined,
            skipped=dict(self.skipped),
            error=self.error,
        )


class AlreadySynced(SyncRefused):
    """The connection has synced since the due time this sync was asked for."""


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


def _check_not_synced_since(host: Host, connection_id: int, name: str, since: datetime) -> None:
    with host.database.session() as session:
        last = session.get_one(Connection, connection_id).last_sync_at
    if last is not None and last >= since:
        raise AlreadySynced(
            f"{name!r} has synced since it was due (last sync {last:%Y-%m-%d %H:%M:%S %Z}).",
            "Nothing to do until it is due again.",
        )


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _check_may_sync(row: Connection, options: SyncOptions, now: datetime) -> None:
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


def _window(row: Connection, now: datetime, earliest: datetime) -> FetchWindow:
    fetched_until = (row.source_state or {}).get("fetched_until")
    start = earliest
    if fetched_until:
        start = max(earliest, datetime.fromisoformat(fetched_until) - OVERLAP)
    lookback = refund_lookback_days((row.settings or {}).get("extra"))
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
        _check_may_sync(row, options, now)
        connection_id = row.id
    holder = _holder()
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
            _check_not_synced_since(host, connection_id, name, options.unless_synced_since)
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


def close_abandoned_runs(host: Host, connection_id: int, now: datetime) -> int:
    """Mark "interrupted" every run still "running" (call holding the lease: none can be
    alive); their process stopped before it could say so (kill -9, power loss)."""
    with host.database.session() as session:
        stale = session.scalars(
            select(Run).where(Run.connection_id == connection_id, Run.outcome == RunOutcome.RUNNING)
        ).all()
        for run in stale:
            run.outcome = RunOutcome.INTERRUPTED
            run.finished_at = now
            run.error = run.error or ABANDONED
        return len(stale)


ABANDONED = "the process running this sync stopped before it finished (closed by the next sync)."


def _start_run(host: Host, connection_id: int, options: SyncOptions, now: datetime) -> RunInfo:
    with host.database.session() as session:
        row = session.get_one(Connection, connection_id)
        run = Run(
            connection_id=connection_id,
            trigger=options.trigger,
            forced=options.force,
            dry_run=options.dry_run,
            started_at=now,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        session.add(run)
        session.flush()
        return RunInfo(
            id=run.id,
            connection=connection_info(row),
            trigger=options.trigger,
            started_at=now,
            dry_run=options.dry_run,
        )


def _run(
    host: Host, name: str, connection_id: int, options: SyncOptions, now: datetime, holder: str
) -> SyncReport:
    run = _start_run(host, connection_id, options, now)
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
            _succeeded(host, run, report, now, options)
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
        _succeeded(host, run, report, now, options)
    except AuthorizationFailed as error:
        report.outcome, report.error = RunOutcome.FAILED, str(error)
        mark_failed(host, run.connection, error.message, now, hint=error.hint)
    except EventSyncDeferred as error:  # not a pause: the daily sync runs as usual
        report.outcome, report.error = RunOutcome.INCOMPLETE, str(error)
        log.info("event sync of %s deferred: %s", name, error)
    except DailyLimitReached as error:
        resume = _paused(host, run, error, now)
        left = report.pending = documents_left(host.database, connection_id)
        report.outcome = RunOutcome.PAUSED
        report.error = (
            f"{error.message}; resumes at {resume:%Y-%m-%d %H:%M} UTC: {left:,} "
            f"document{'' if left == 1 else 's'} left. {error.hint}".strip()
        )
    except LedgersyncError as error:
        report.outcome, report.error = RunOutcome.FAILED, str(error)
        _failed(host, run, report, now)
    except Exception as error:
        report.outcome, report.error = RunOutcome.FAILED, _unexpected(error, host)
        log.exception("sync of %s failed", name)
        _failed(host, run, report, now)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under interrupts_on_signals
        report.outcome = RunOutcome.INTERRUPTED
        report.error = f"interrupted by {stop.args[0] if stop.args else 'SIGINT'}."
        raise
    finally:
        if destination_calls is not None and report.outcome != RunOutcome.SUCCEEDED:
            # Delivery raised part-way (authorization, daily limit): count from the store.
            report.documents_delivered = delivered_in_run(host.database, connection_id, run.id)
        report.api_calls = sum(c.total for c in (source_calls, destination_calls) if c)
        _finish_run(host, run, report, source_calls, destination_calls)
        host.plugins.sync_finished(run, report.summary())
    return report


def _unexpected(error: Exception, host: Host) -> str:
    """The run's error for an exception no rule expected: a failing store in words."""
    if isinstance(error, SQLAlchemyError):
        return store_problem(error, f"the store at {host.database.location}")
    return f"{type(error).__name__}: {error}"


def _delivery_progress(
    keeper: leases.LeaseKeeper, progress: Progress | None
) -> Callable[[int, int | None], None]:
    """Renew the lease as delivery goes (stopping if it was lost) and report progress."""

    def on_progress(done: int, total: int | None) -> None:
        keeper()
        if progress is not None:
            progress("deliver", done, total)

    return on_progress


def _earliest_period_start(host: Host, connection_id: int) -> datetime | None:
    with host.database.session() as session:
        return session.scalar(
            select(func.min(SyncPeriod.started_at)).where(SyncPeriod.connection_id == connection_id)
        )


def _ingest(
    host: Host,
    run: RunInfo,
    source: Any,
    report: SyncReport,
    now: datetime,
    options: SyncOptions,
) -> None:
    earliest = _earliest_period_start(host, run.connection.id)
    if earliest is None:
        return
    with host.database.session() as session:
        row = session.get_one(Connection, run.connection.id)
        window = _window(row, now, earliest)
        state: dict[str, Any] = dict((row.source_state or {}).get("source", {}))
    items = source.fetch(window, state)
    for batch in _chunks(iter(items), INGEST_BATCH):
        with host.database.session() as session:
            counts = store_items(session, run.connection.id, batch, now)
        report.fetched += len(batch)
        report.quarantined += counts.quarantined
        if options.progress:
            options.progress("fetch", report.fetched, None)
    with host.database.session() as session:
        row = session.get_one(Connection, run.connection.id)
        row.source_state = {"source": state, "fetched_until": window.end.isoformat()}


def _succeeded(
    host: Host, run: RunInfo, report: SyncReport, now: datetime, options: SyncOptions
) -> None:
    if not run.dry_run:  # what the source had at ``now`` is read: its events are covered
        mark_handled(host.database, run.connection.id, received_by=now, run_id=run.id, now=now)
    with host.database.session() as session:
        row = session.get_one(Connection, run.connection.id)
        if run.trigger != SyncTrigger.EVENT:  # an event sync never stands in for the daily sync
            row.last_sync_at = now
        if options.trigger == SyncTrigger.MANUAL and report.outcome == RunOutcome.SUCCEEDED:
            row.last_manual_sync_at = now  # only a sync that succeeded uses up the hour
        row.paused_until = None
        for kind in ("sync_failed", "daily_limit_reached"):
            alerts.resolve_alerts(session, run.connection.id, kind, now)
        new_quarantine = report.quarantined
    if new_quarantine:
        alerts.notify(
            host.plugins,
            connection_notice(
                run.connection,
                NoticeKind.RECORDS_QUARANTINED,
                f"ledgersync: {new_quarantine} record(s) quarantined for {run.connection.name}",
                f"{new_quarantine} record(s) from the source could not be read and were set aside "
                "with their reasons; everything else synced.",
                f"`ledgersync quarantine {run.connection.name}` lists each record with its "
                f"reason; after a fix, `ledgersync quarantine {run.connection.name} --retry` "
                "takes them back in.",
                now,
            ),
        )


def _paused(host: Host, run: RunInfo, error: DailyLimitReached, now: datetime) -> datetime:
    """Pause the connection until the quota's reset; returns when it resumes."""
    resume = error.resume_after or (now + timedelta(days=1))
    with host.database.session() as session:
        row = session.get_one(Connection, run.connection.id)
        row.paused_until = resume
        opened = alerts.open_alert(
            session, run.connection.id, "daily_limit_reached", str(error), now
        )
    if opened is not None:
        alerts.send_episode(
            host.database,
            host.plugins,
            opened.id,
            connection_notice(
                run.connection,
                NoticeKind.DAILY_LIMIT_REACHED,
                f"ledgersync: daily API limit reached for {run.connection.name}",
                f"paused: daily API limit reached. Sync resumes after {resume.isoformat()}; "
                "nothing is lost.",
                "No action needed; a higher plan raises the limit.",
                now,
            ),
            now,
        )
    return resume


def _failed(host: Host, run: RunInfo, report: SyncReport, now: datetime) -> None:
    with host.database.session() as session:
        recent = session.scalars(
            select(Run.outcome)
            .where(Run.connection_id == run.connection.id, Run.id != run.id, Run.dry_run.is_(False))
            .order_by(Run.id.desc())
            .limit(FAILURES_BEFORE_ALERT - 1)
        ).all()
        repeated = len(recent) == FAILURES_BEFORE_ALERT - 1 and all(o == "failed" for o in recent)
        opened = (
            alerts.open_alert(session, run.connection.id, "sync_failed", report.error, now)
            if repeated
            else None
        )
    if opened is not None:
        alerts.send_episode(
            host.database,
            host.plugins,
            opened.id,
            connection_notice(
                run.connection,
                NoticeKind.SYNC_FAILED,
                f"ledgersync: sync of {run.connection.name} failed repeatedly",
                report.error,
                f"See `ledgersync history {run.connection.name}`.",
                now,
            ),
            now,
        )


def _finish_run(
    host: Host,
    run: RunInfo,
    report: SyncReport,
    source_calls: CallCounter | None,
    destination_calls: CallCounter | None,
) -> None:
    with host.database.session() as session:
        row = session.get_one(Run, run.id)
        row.finished_at = utcnow()
        row.outcome = report.outcome
        row.counts = {
            "fetched": report.fetched,
            "planned": dict(report.documents_planned),
            "delivered": dict(report.documents_delivered),
            "recovered": report.recovered,
            "adopted": dict(report.adopted),
            "pending": report.pending,
            "failed": [list(item) for item in report.failed_documents],
            "unknown_channels": dict(report.unknown_channels),
            "held_payouts": dict(report.held_payouts),
            "destination_calls": destination_calls.total if destination_calls else 0,
        }
        row.skipped = dict(report.skipped)
        row.api_calls = report.api_calls
        row.quarantined = report.quarantined
        row.error = report.error or None
        for counter in (source_calls, destination_calls):
            if counter is not None:
                counter.flush(session, run.connection.id)


def quarantined_count(host: Host, connection_id: int) -> int:
    with host.database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(QuarantinedRecord)
                .where(
                    QuarantinedRecord.connection_id == connection_id,
                    QuarantinedRecord.resolved_at.is_(None),
                )
            )
            or 0
        )
