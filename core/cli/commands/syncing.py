"""``ledgersync sync``, ``run-due`` and ``scheduler``."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, ClassVar, NoReturn

import click

from core import clock
from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.host import Host
from core.reports.history import report_lines
from core.scheduling.runner import DueRun, run_due
from core.states import RunOutcome, SyncTrigger
from core.sync.engine import SyncOptions, SyncReport, sync
from core.sync.interruption import EXIT_INTERRUPTED, interrupts_on_signals

log = logging.getLogger(__name__)


class ProgressBar:
    """A one-line progress bar on stderr per phase (fetching, delivering); terminals only."""

    LABELS: ClassVar[dict[str, str]] = {"fetch": "fetching records", "deliver": "delivering"}
    WIDTH: ClassVar[int] = 30

    def __init__(self) -> None:
        self.phase: str | None = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if self.phase is not None and phase != self.phase:
            click.echo("", err=True)
        self.phase = phase
        label = self.LABELS.get(phase, phase)
        if total:
            filled = self.WIDTH * min(done, total) // total
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            click.echo(f"\r  {label:<16} [{bar}] {done}/{total}", nl=False, err=True)
        else:
            click.echo(f"\r  {label:<16} {done}", nl=False, err=True)

    def close(self) -> None:
        if self.phase is not None:
            click.echo("", err=True)


def describe(report: SyncReport) -> list[str]:
    return [safe(line) for line in report_lines(report)]


@click.command("sync")
@click.argument("name")
@click.option("--force", is_flag=True, help="Ignore the once-per-hour manual limit (recorded).")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing remote.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
@pass_host
def sync_command(host: Host, name: str, force: bool, dry_run: bool, as_json: bool) -> None:
    """Sync NAME now (at most once per hour without --force)."""
    progress = ProgressBar() if sys.stderr.isatty() and not as_json else None
    options = SyncOptions(
        trigger=SyncTrigger.MANUAL, force=force, dry_run=dry_run, progress=progress
    )
    try:
        with interrupts_on_signals():
            report = sync(host, name, options)
    except KeyboardInterrupt as stop:
        if progress is not None:
            progress.close()
        _stopped(name, stop)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json(
            {
                "connection": report.connection,
                "run_id": report.run_id,
                "outcome": report.outcome,
                "fetched": report.fetched,
                "quarantined": report.quarantined,
                "planned": dict(report.documents_planned),
                "created": dict(report.documents_delivered),
                "recovered": report.recovered,
                "adopted": dict(report.adopted),
                "pending": report.pending,
                "skipped": dict(report.skipped),
                "held_payouts": dict(report.held_payouts),
                "api_calls": report.api_calls,
                "error": report.error,
                **({"forecast": report.forecast.to_dict()} if report.forecast else {}),
            }
        )
    else:
        for line in describe(report):
            click.echo(line)
        if dry_run:
            if report.forecast is not None:
                click.echo(f"  forecast: {report.forecast.line()}")
                for kind, calls in sorted(report.forecast.calls.items()):
                    documents = report.forecast.documents[kind]
                    what = (
                        f"{documents:,} documents"
                        if documents
                        else "which store writes here, every run"
                        if kind == "claim"
                        else "metadata, once"
                    )
                    click.echo(f"    {kind}: {what}, {calls:,} calls")
            click.echo("  dry run: nothing was written to the destination. The plan:")
            for document in report.planned_documents:
                click.echo(
                    f"    {safe(document.key)}  {document.kind}  {document.amount} "
                    f"{document.currency}  {document.date}"
                )
    sys.exit(exit_code([report.outcome]))


# Exit codes (README "Exit codes"): what cron, systemd and scripts can tell apart.
EXIT_CODES: dict[str, int] = {
    RunOutcome.SUCCEEDED: 0,
    RunOutcome.FAILED: 1,
    RunOutcome.INCOMPLETE: 3,
    RunOutcome.PAUSED: 3,
}


def exit_code(outcomes: Iterable[str]) -> int:
    """0 when every run succeeded, 1 when one failed, else 3 (incomplete or paused)."""
    codes = {EXIT_CODES.get(outcome, 1) for outcome in outcomes}
    return 1 if 1 in codes else max(codes, default=0)


def _stopped(name: str, stop: KeyboardInterrupt) -> NoReturn:
    signal = stop.args[0] if stop.args else "SIGINT"
    click.echo(
        f"Sync of {safe(name)} interrupted ({signal}): the run is marked interrupted; the next "
        "`ledgersync sync` finishes it, with nothing sent twice.",
        err=True,
    )
    sys.exit(EXIT_INTERRUPTED)


def _due_json(result: DueRun) -> dict[str, Any]:
    report = result.report
    return {
        "connection": result.name,
        "ran": report is not None,
        "refused": result.refused or None,
        "outcome": report.outcome if report else None,
        "run_id": report.run_id if report else None,
        "created": dict(report.documents_delivered) if report else {},
        "error": (report.error or None) if report else None,
    }


@click.command("run-due")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one entry per due connection.")
@pass_host
def run_due_command(host: Host, as_json: bool) -> None:
    """Sync every connection whose daily sync is due (for cron)."""
    try:
        with interrupts_on_signals():
            results = run_due(host)
    except KeyboardInterrupt as stop:
        _stopped("the due connections", stop)
    ran = [result.report.outcome for result in results if result.report is not None]
    if as_json:
        emit_json([_due_json(result) for result in results])
        sys.exit(exit_code(ran))
    if not results:
        click.echo("Nothing due.")
    for result in results:
        if result.report is None:
            click.echo(f"{safe(result.name)}: not run ({safe(result.refused)})")
        else:
            click.echo(describe(result.report)[0])
    sys.exit(exit_code(ran))


def _stamped(line: str) -> str:
    """``line`` after the UTC time it is printed at, for a scheduler's log."""
    return f"{clock.now().strftime('%Y-%m-%dT%H:%M:%SZ')} {line}"


@click.command("scheduler")
@click.option(
    "--interval",
    default=60,
    show_default=True,
    type=click.IntRange(1, 86_400),
    help="Seconds between checks (1 to 86400).",
)
@pass_host
def scheduler_command(host: Host, interval: int) -> None:
    """Run the scheduler loop in the foreground (Ctrl-C stops it)."""
    try:
        # Ctrl-C and SIGTERM stop the loop cleanly (also when started from a script with `&`,
        # which leaves SIGINT ignored); a sync in progress is marked interrupted.
        with interrupts_on_signals():
            click.echo(
                _stamped(f"ledgersync scheduler: checking every {interval}s. Ctrl-C to stop.")
            )
            _schedule(host, interval)
    except KeyboardInterrupt:
        click.echo(_stamped("Scheduler stopped."))


def _schedule(host: Host, interval: int) -> None:
    """Run due syncs every ``interval`` seconds, until interrupted."""
    while True:
        try:
            results = run_due(host)
        except Exception as error:  # the store may be away for a while: keep the loop
            log.exception("run-due failed")
            click.echo(
                _stamped(f"run-due failed, trying again in {interval}s: {safe(error)}"),
                err=True,
            )
            results = []
        for result in results:
            state = result.report.outcome if result.report else f"not run: {result.refused}"
            click.echo(_stamped(f"{safe(result.name)}: {safe(state)}"))
        time.sleep(interval)


COMMANDS = [sync_command, run_due_command, scheduler_command]
