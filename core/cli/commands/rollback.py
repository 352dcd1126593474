"""``ledgersync rollback`` and ``ledgersync repost``: take back what a sync wrote, and book it
again under the settings of now (docs: README "Undo: rollback and repost")."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from typing import Any

import click

from core.cli.commands.syncing import ProgressBar, describe, exit_code
from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.errors import ConfigurationError
from core.host import Host
from core.states import RunOutcome
from core.store.repository import get_connection
from core.sync.interruption import EXIT_INTERRUPTED, interrupts_on_signals
from core.sync.undo import RollbackReport, Scope, repost, rollback

DAY = click.DateTime(formats=["%Y-%m-%d"])
_INTERRUPTED = (
    "Interrupted: nothing is lost. The same command again finishes what was started "
    "(`ledgersync history {name}` shows the run)."
)


def _scope(run: int | None, since: datetime | None, until: datetime | None) -> Scope:
    if (run is None) == (since is None):
        raise click.UsageError("give either --run N or --since DATE (with --until DATE).")
    if until is not None and since is None:
        raise click.UsageError("--until needs --since.")
    first = since.date() if since is not None else None
    last = until.date() if until is not None else None
    if first is not None and last is not None and last < first:
        raise click.UsageError(f"--until {last} is before --since {first}.")
    return Scope(run=run, since=first, until=last)


def _counted(kinds: Counter[str] | dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing"


def _plan_lines(report: RollbackReport) -> list[str]:
    plan = report.plan
    lines = [f"Rollback of {safe(report.connection)}, {plan.scope.describe()}:"]
    lines.append(f"  to delete: {_counted(plan.kinds())}")
    beyond = plan.beyond_scope()
    if beyond:
        days = sorted({doc.doc_date for doc in beyond})
        lines.append(
            f"  taken whole: {len(beyond)} document(s) outside the scope (dated {days[0]}"
            + (f" to {days[-1]}" if len(days) > 1 else "")
            + ") share records with it or depend on it, and go with it"
        )
    for doc, why in plan.stays:
        lines.append(f"  stays: {doc.kind} {safe(doc.key)}: {safe(why)}")
    if plan.unfinished:
        lines.append(f"  finishing first: {plan.unfinished} document(s) an earlier rollback holds")
    return lines


def _result_lines(report: RollbackReport) -> list[str]:
    result = report.result
    lines = [f"  outcome: {report.outcome}", f"  deleted: {_counted(result.deleted)}"]
    lines.append(f"  records back to not yet planned: {result.released}")
    for key, why in result.stays:
        lines.append(f"  stays: {safe(key)}: {safe(why)}")
    if result.replanned:
        lines.append(
            f"  booked again by the next sync (their group stays): {len(result.replanned)}"
        )
    lines.append(f"  API calls: {report.api_calls}")
    if report.error:
        lines.append(f"  {safe(report.error)}")
    return lines


def _to_json(report: RollbackReport) -> dict[str, Any]:
    plan = report.plan
    return {
        "connection": report.connection,
        "scope": plan.scope.describe(),
        "dry_run": report.dry_run,
        "run_id": report.run_id,
        "outcome": report.outcome,
        "to_delete": [
            {
                "key": doc.key,
                "kind": doc.kind,
                "date": doc.doc_date.isoformat(),
                "amount": str(doc.amount),
                "currency": doc.currency,
                "in_scope": doc.in_scope,
            }
            for doc in plan.documents
        ],
        "stays": [{"key": doc.key, "kind": doc.kind, "reason": why} for doc, why in plan.stays],
        "deleted": dict(report.result.deleted),
        "released": report.result.released,
        "stayed": [{"key": key, "reason": why} for key, why in report.result.stays],
        "replanned": list(report.result.replanned),
        "api_calls": report.api_calls,
        "error": report.error,
    }


def _check_connection(host: Host, name: str) -> None:
    with host.database.session() as session:
        get_connection(session, name)


def _confirm(report: RollbackReport, question: str) -> None:
    for line in _plan_lines(report):
        click.echo(line)
    if not report.plan.documents and not report.plan.unfinished:
        click.echo("Nothing to roll back.")
        sys.exit(0)
    click.confirm(question, abort=True)


@click.command("rollback")
@click.argument("name")
@click.option("--run", "run", type=click.IntRange(min=1), help="The documents of this run.")
@click.option("--since", type=DAY, help="Documents dated on or after this day (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="... and on or before this day (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def rollback_command(
    host: Host,
    name: str,
    run: int | None,
    since: datetime | None,
    until: datetime | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Delete from the destination what NAME's syncs delivered in a scope (a run, or dates),
    and make its records "not yet planned" again: the next sync books them under the settings
    of that moment. A document a person changed stays, with the reason."""
    scope = _scope(run, since, until)
    _check_connection(host, name)
    if dry_run or not yes:
        report = rollback(host, name, scope, dry_run=True)
        if dry_run:
            if as_json:
                emit_json(_to_json(report))
            else:
                for line in _plan_lines(report):
                    click.echo(line)
                click.echo("  dry run: nothing was deleted.")
            return
        _confirm(report, "Delete them?")
    progress = ProgressBar() if sys.stderr.isatty() and not as_json else None
    try:
        with interrupts_on_signals():
            report = rollback(host, name, scope, progress=progress)
    except KeyboardInterrupt:
        click.echo(_INTERRUPTED.format(name=safe(name)), err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json(_to_json(report))
    else:
        for line in _plan_lines(report) + _result_lines(report):
            click.echo(line)
    sys.exit(exit_code([report.outcome]))


@click.command("repost")
@click.argument("name")
@click.option("--since", type=DAY, required=True, help="First day (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="Last day, included (YYYY-MM-DD).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_host
def repost_command(
    host: Host, name: str, since: datetime, until: datetime | None, yes: bool
) -> None:
    """Roll back NAME's documents of these days, then sync: the same records booked again
    under the current settings. Run it again to finish one that was interrupted."""
    scope = _scope(None, since, until)
    _check_connection(host, name)
    if not yes:
        _confirm(rollback(host, name, scope, dry_run=True), "Delete and book them again?")
    progress = ProgressBar() if sys.stderr.isatty() else None
    try:
        with interrupts_on_signals():
            report = repost(host, name, scope, progress=progress)
    except KeyboardInterrupt:
        click.echo(_INTERRUPTED.format(name=safe(name)), err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if progress is not None:
            progress.close()
    for line in _plan_lines(report) + _result_lines(report):
        click.echo(line)
    outcomes = [report.outcome]
    if report.sync is not None:
        for line in describe(report.sync):
            click.echo(line)
        outcomes.append(report.sync.outcome)
    elif report.outcome == RunOutcome.SUCCEEDED:
        raise ConfigurationError("the sync after the rollback did not run.")
    sys.exit(exit_code(outcomes))


COMMANDS = [rollback_command, repost_command]
