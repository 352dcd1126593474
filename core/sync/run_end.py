"""How a sync ends: succeeded, paused at the daily limit, or failed (alerting when it repeats),
and the run's record written with what it did."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.connections import alerts
from core.connections.failure import connection_notice
from core.contracts import NoticeKind, RunInfo
from core.errors import DailyLimitReached
from core.host import Host
from core.states import RunOutcome, SyncTrigger
from core.store import runs
from core.store.problems import StoreError, store_problem
from core.store.repository import CallCounter, utcnow
from core.sync.events import mark_handled
from core.sync.run_report import SyncOptions, SyncReport

__all__ = ["FAILURES_BEFORE_ALERT", "failed", "finish_run", "paused", "succeeded", "unexpected"]

FAILURES_BEFORE_ALERT = 3


def unexpected(error: Exception, host: Host) -> str:
    """The run's error for an exception no rule expected: a failing store in words."""
    if isinstance(error, StoreError):
        return store_problem(error, f"the store at {host.database.location}")
    return f"{type(error).__name__}: {error}"


def succeeded(
    host: Host, run: RunInfo, report: SyncReport, now: datetime, options: SyncOptions
) -> None:
    if not run.dry_run:  # what the source had at ``now`` is read: its events are covered
        mark_handled(host.database, run.connection.id, received_by=now, run_id=run.id, now=now)
    with host.database.session() as session:
        runs.mark_synced(
            session,
            run.connection.id,
            now,
            # an event sync never stands in for the daily sync
            daily=run.trigger != SyncTrigger.EVENT,
            # only a sync that succeeded uses up the hour
            manual=options.trigger == SyncTrigger.MANUAL and report.outcome == RunOutcome.SUCCEEDED,
        )
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


def paused(host: Host, run: RunInfo, error: DailyLimitReached, now: datetime) -> datetime:
    """Pause the connection until the quota's reset; returns when it resumes."""
    resume = error.resume_after or (now + timedelta(days=1))
    with host.database.session() as session:
        runs.pause_until(session, run.connection.id, resume)
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


def failed(host: Host, run: RunInfo, report: SyncReport, now: datetime) -> None:
    with host.database.session() as session:
        recent = runs.recent_outcomes(session, run.connection.id, run.id, FAILURES_BEFORE_ALERT - 1)
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


def finish_run(
    host: Host,
    run: RunInfo,
    report: SyncReport,
    source_calls: CallCounter | None,
    destination_calls: CallCounter | None,
) -> None:
    with host.database.session() as session:
        runs.finish_run(
            session,
            run.id,
            finished_at=utcnow(),
            outcome=report.outcome,
            counts={
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
            },
            skipped=dict(report.skipped),
            api_calls=report.api_calls,
            quarantined=report.quarantined,
            error=report.error or None,
        )
        for counter in (source_calls, destination_calls):
            if counter is not None:
                counter.flush(session, run.connection.id)
