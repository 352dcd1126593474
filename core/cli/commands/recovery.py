"""``ledgersync backfill`` and ``ledgersync quarantine``: skips and quarantine taken back on
request, always explicitly (the seed's defaults stay: skips are for good unless asked)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, local, safe
from core.connections.backfill import BackfillPlan, backfill, backfill_preview
from core.connections.setup import load_connection
from core.errors import SyncRefused
from core.host import Host
from core.reports.history import report_lines
from core.states import RunOutcome, SyncTrigger
from core.sync.engine import SyncOptions, sync
from core.sync.quarantine import quarantined, retry_quarantined
from core.sync.rejections import RejectedDocument, rejected_documents, retry_rejected

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _describe(plan: BackfillPlan, first: str, last: str) -> list[str]:
    lines = [f"Back-fill of {safe(plan.name)} from {first} to {last} ({plan.timezone}):"]
    if plan.total:
        lines.append(f"  {plan.total} skipped charge(s) will be booked at the sync that follows:")
        lines.extend(
            f"    {count} {safe(reason)}" for reason, count in sorted(plan.charges.items())
        )
        amounts = ", ".join(
            f"{amount} {currency}" for currency, amount in sorted(plan.amounts.items())
        )
        lines.append(f"    amounts: {amounts}")
    if plan.unfetched_before is not None:
        until = plan.unfetched_before.astimezone(plan.start.tzinfo)
        lines.append(
            f"  Nothing from {first} to {until:%Y-%m-%d %H:%M} was ever fetched: the sync "
            "fetches it, and books the charges it finds there too."
        )
    if plan.unfetched_after is not None:
        after = plan.unfetched_after.astimezone(plan.start.tzinfo)
        lines.append(
            f"  Charges created after {after:%Y-%m-%d %H:%M} are not fetched yet: the sync "
            "fetches them, and books those of the range."
        )
    return lines


def _sync_now(host: Host, name: str) -> None:
    try:
        report = sync(host, name, SyncOptions(trigger=SyncTrigger.MANUAL, force=True))
    except SyncRefused as refused:
        click.echo(f"Not synced now: {safe(refused)}")
        click.echo("The back-fill is recorded; the first sync that runs books it.")
        return
    for line in report_lines(report):
        click.echo(safe(line))
    if report.outcome == RunOutcome.FAILED:
        sys.exit(1)


@click.command("backfill")
@click.argument("name")
@click.option("--from", "first", type=DAY, required=True, help="First day (YYYY-MM-DD, local).")
@click.option("--to", "last", type=DAY, required=True, help="Last day, included (YYYY-MM-DD).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_host
def backfill_command(host: Host, name: str, first: datetime, last: datetime, yes: bool) -> None:
    """Book NAME's charges of these days that were skipped (created before sync was enabled,
    while it was disabled, or from a channel not selected then, if selected now), then sync."""
    plan = backfill_preview(host, name, first.date(), last.date())
    if plan.empty:
        click.echo(
            f"Nothing to back-fill: no charge of {safe(name)} from {first.date()} to "
            f"{last.date()} was skipped."
        )
        return
    for line in _describe(plan, str(first.date()), str(last.date())):
        click.echo(line)
    if not yes:
        click.confirm("Book them?", abort=True)
    backfill(host, name, first.date(), last.date())
    _sync_now(host, name)


@click.command("quarantine")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--retry",
    is_flag=True,
    help="After a fix (at the source, or an upgrade): read each record again, then sync.",
)
@pass_host
def quarantine_command(host: Host, name: str, as_json: bool, retry: bool) -> None:
    """The records of NAME that could not be synced as they are, each with its reason and how
    often it was seen; --retry takes them back in after a fix."""
    zone = load_connection(host, name).timezone
    if retry:
        before = len(quarantined(host, name))
        outcome = retry_quarantined(host, name)
        if not as_json:
            click.echo(
                f"Retrying {before} quarantined record(s) of {safe(name)}: {outcome.read_again} "
                f"read again, {outcome.rejudged} to be judged again, {outcome.still_bad} still "
                "unreadable at the source"
                + ("; the sync fetches every sync period again." if outcome.refetch else ".")
            )
        if as_json:
            sync(host, name, SyncOptions(trigger=SyncTrigger.MANUAL, force=True))
        else:
            _sync_now(host, name)
    rows = quarantined(host, name)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"Nothing of {safe(name)} is quarantined.")
        return
    click.echo(f"{len(rows)} quarantined record(s) of {safe(name)}:")
    for row in rows:
        click.echo(
            f"  {row['kind']} {safe(row['source_id'] or '(no id)')}: {safe(row['reason'])} "
            f"(seen {row['times_seen']} time(s), first {local(row['first_seen'], zone)}, "
            f"last {local(row['last_seen'], zone)})"
        )
    click.echo(f"After a fix, `ledgersync quarantine {safe(name)} --retry` takes them back in.")


@click.command("retry")
@click.argument("name")
@click.option("--key", "keys", multiple=True, help="Only this document (repeatable).")
@click.option("--all-failed", is_flag=True, help="Every document the destination rejected.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent again; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def retry_command(
    host: Host, name: str, keys: tuple[str, ...], all_failed: bool, dry_run: bool, as_json: bool
) -> None:
    """The documents of NAME the destination rejected, each with its reason; after the fix
    (e.g. `ledgersync settings NAME --tax TAX_ID`), --all-failed or --key KEY sends them again
    under the current settings, then syncs. Each is looked up by key first: one an earlier
    attempt created is bound, never created twice."""
    if keys and all_failed:
        raise click.UsageError("give --key KEY or --all-failed, not both.")
    chosen = list(keys) if keys else None
    rows = rejected_documents(host, name, chosen)
    unknown = sorted(set(keys) - {row.key for row in rows})
    if unknown:
        raise click.UsageError(f"{unknown[0]!r} is not a rejected document of {name}.")
    retrying = bool(rows) and bool(keys or all_failed) and not dry_run
    if not as_json:
        _describe_rejected(name, rows, "retry" if retrying else "dry" if dry_run else "list")
        if rows and not (keys or all_failed):
            click.echo(
                f"After the fix, `ledgersync retry {safe(name)} --all-failed` (or --key KEY) "
                "sends them again; --dry-run shows what it would send."
            )
    still: list[str] = []
    if retrying:
        retry_rejected(host, name, chosen)
        if as_json:
            sync(host, name, SyncOptions(trigger=SyncTrigger.MANUAL, force=True))
        else:
            _sync_now(host, name)
        still = [row.key for row in rejected_documents(host, name, [row.key for row in rows])]
        if still and not as_json:
            click.echo(f"Rejected again: {len(still)}; `ledgersync retry {safe(name)}` lists why.")
    if as_json:
        emit_json(
            {
                "rejected": [asdict(row) for row in rows],
                "retried": retrying,
                "rejected_again": still,
            }
        )
    if still:
        sys.exit(1)


def _describe_rejected(name: str, rows: list[RejectedDocument], doing: str) -> None:
    if not rows:
        click.echo(f"Nothing of {safe(name)} was rejected by the destination.")
        return
    head = {"retry": "Sending again", "dry": "Would send again", "list": "Rejected"}[doing]
    click.echo(f"{head}: {len(rows)} document(s) of {safe(name)}:")
    for row in rows:
        click.echo(
            f"  {row.kind} {safe(row.key)} ({row.date}, {row.amount} {row.currency}): "
            f"{safe(row.reason.removeprefix(f'{row.key}: '))}"
        )
    if doing == "dry":
        click.echo("Each is looked up by key first; nothing was changed.")


COMMANDS = [backfill_command, quarantine_command, retry_command]
