"""Rollback and repost as runs: the lease, the run row in the history, errors in words.

``rollback`` holds the connection's lease (no sync runs meanwhile), records a run with
trigger ``rollback``, previews the scope (refusing before anything is deleted when the
destination cannot delete a kind it needs), marks what it takes and deletes it
(:mod:`core.sync.rollback`). ``repost`` is a rollback, then a sync under the settings of now;
run again with the same arguments it finishes an interrupted one (whatever a rollback holds
is finished first, and the sync books what is not planned).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import (
    AuthorizationFailed,
    DailyLimitReached,
    LedgersyncError,
    SyncRefused,
)
from core.host import Host
from core.states import ConnectionStatus, RunOutcome, SyncTrigger
from core.store.problems import StoreError, store_problem
from core.store.repository import connection_info, get_connection, utcnow
from core.store.runs import finish_run, start_run
from core.sync import leases
from core.sync.claims import claim_organization
from core.sync.engine import SyncOptions, SyncReport, close_abandoned_runs, lease_ttl, sync
from core.sync.rollback import (
    RollbackPlan,
    RollbackResult,
    Scope,
    delete_groups,
    mark_for_deletion,
    preview,
)

__all__ = ["RollbackReport", "Scope", "repost", "rollback"]

Progress = Callable[[str, int, int | None], None]  # (phase, done, total), as a sync's


@dataclass(slots=True)
class RollbackReport:
    connection: str
    plan: RollbackPlan
    dry_run: bool = False
    run_id: int | None = None
    outcome: str = "running"  # succeeded | incomplete | failed | paused | interrupted
    result: RollbackResult = field(default_factory=RollbackResult)
    api_calls: int = 0
    error: str = ""
    sync: SyncReport | None = None


def _phase(progress: Progress | None, phase: str) -> Callable[[int, int | None], None] | None:
    if progress is None:
        return None
    bar = progress

    def on_progress(done: int, total: int | None) -> None:
        bar(phase, done, total)

    return on_progress


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:rollback"


def rollback(
    host: Host,
    name: str,
    scope: Scope,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RollbackReport:
    """Roll back ``scope`` of connection ``name`` (module notes); SyncRefused when a sync of
    it is running, ConfigurationError when the destination cannot delete what it needs."""
    now = utcnow()
    with host.database.session() as session:
        row = get_connection(session, name)
        connection_id = row.id
        info = connection_info(row)
        if row.status == ConnectionStatus.DISCONNECTED:
            raise SyncRefused(f"connection {name!r} is disconnected.")
    holder = _holder()
    lease = leases.acquire(
        host.database, connection_id, holder=holder, ttl=lease_ttl(), clock=utcnow
    )
    if lease is None:
        raise SyncRefused(
            f"a sync of {name!r} is running.", "Wait for it to finish; see `ledgersync status`."
        )
    try:
        close_abandoned_runs(host, connection_id, now)
        destination, calls = host.open_destination(name)
        try:
            plan = preview(host, connection_id, scope, destination)
            report = RollbackReport(name, plan, dry_run=dry_run)
            if dry_run:
                report.outcome = RunOutcome.SUCCEEDED
                return report
            report.run_id = _start_run(host, connection_id)
            try:
                # One live store per organization: another store's books are not ours to undo.
                claim_organization(host.database, connection_id, destination, now)
                mark_for_deletion(host, plan)
                delete_groups(
                    host,
                    connection_id,
                    destination,
                    info.settings,
                    report.result,
                    _phase(progress, "rollback"),
                )
                report.outcome = RunOutcome.SUCCEEDED
            except AuthorizationFailed as error:
                report.outcome, report.error = RunOutcome.FAILED, str(error)
            except DailyLimitReached as error:
                report.outcome, report.error = RunOutcome.PAUSED, str(error)
            except LedgersyncError as error:
                report.outcome, report.error = RunOutcome.FAILED, str(error)
            except StoreError as error:
                report.outcome, report.error = RunOutcome.FAILED, store_problem(error)
            except KeyboardInterrupt:
                report.outcome, report.error = RunOutcome.INTERRUPTED, "interrupted."
                raise
            finally:
                report.api_calls = calls.total
                _finish_run(host, report)
        finally:
            with host.database.session() as session:
                calls.flush(session, connection_id)
    finally:
        leases.release(host.database, connection_id, holder=holder)
    return report


def _start_run(host: Host, connection_id: int) -> int:
    run_id, _connection = start_run(
        host.database,
        connection_id,
        trigger=SyncTrigger.ROLLBACK,
        forced=True,
        dry_run=False,
        started_at=utcnow(),
    )
    return run_id


def _finish_run(host: Host, report: RollbackReport) -> None:
    if report.run_id is None:
        return
    with host.database.session() as session:
        finish_run(
            session,
            report.run_id,
            finished_at=utcnow(),
            outcome=report.outcome,
            counts=report.result.counts(),
            skipped={},
            api_calls=report.api_calls,
            quarantined=0,
            error=report.error or None,
        )


def repost(
    host: Host,
    name: str,
    scope: Scope,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> RollbackReport:
    """A rollback of ``scope``, then a sync under the current settings (forced: the hourly
    manual limit does not apply). The sync runs only after a rollback that finished."""
    report = rollback(host, name, scope, progress=progress)
    if report.outcome != RunOutcome.SUCCEEDED:
        return report
    options = SyncOptions(trigger=SyncTrigger.MANUAL, force=True, progress=progress, now=now)
    report.sync = sync(host, name, options)
    return report
