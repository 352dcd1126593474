"""``ledgersync status``, ``history``, ``ledger`` and ``why``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, local, safe
from core.connections.setup import load_connection
from core.documents import DocumentKind
from core.host import Host
from core.reports.history import created_summary, run_history
from core.reports.ledger import LedgerFilter, ledger_csv, ledger_rows
from core.reports.status import status_rows
from core.sync.diagnosis import explain_charge


@click.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def status_command(host: Host, name: str | None, as_json: bool) -> None:
    """Status of one connection or all: health, schedule, API use, quarantine."""
    data = status_rows(host, name)
    where = {"store": host.database.location, "secret_key": host.secret_key_origin}
    if as_json:
        emit_json({**data[0], **where} if name else [{**item, **where} for item in data])
        return
    click.echo(f"store: {safe(where['store'])}")
    click.echo(f"secret key: {safe(where['secret_key'])}")
    if not data:
        click.echo("No connections yet.")
    for item in data:
        zone = ZoneInfo(item["timezone"])
        state = "enabled" if item["enabled"] else "disabled"
        click.echo(f"{safe(item['name'])}: {item['status']}, {state}, {item['mode']} mode")
        if item["failure_reason"] and item["status"] == "failed":
            click.echo(f"  failure: {safe(item['failure_reason'])}")
        channels = item["channels"]
        click.echo(f"  channels: {safe(channels if channels == 'all' else ', '.join(channels))}")
        click.echo(f"  last success: {local(item['last_success'], zone)}")
        attempt = f"  last attempt: {local(item['last_attempt'], zone)}"
        if item["last_attempt_outcome"]:
            attempt += f" ({item['last_attempt_outcome']})"
        if item["last_attempt_error"] and item["last_attempt_outcome"] != "succeeded":
            attempt += f": {safe(item['last_attempt_error'])}"
        click.echo(attempt)
        click.echo(f"  next scheduled sync: {local(item['next_scheduled_sync'], zone)}")
        click.echo(f"  next manual sync allowed: {local(item['next_manual_sync_allowed'], zone)}")
        if item["paused_until"]:
            click.echo(f"  paused until: {local(item['paused_until'], zone)} (daily API limit)")
        if item["last_event_at"]:
            click.echo(
                f"  last event: {safe(item['last_event'])} at {local(item['last_event_at'], zone)}"
                f" ({item['pending_events']} waiting)"
            )
            when = item["event_syncs_held"] or (
                local(item["next_event_sync"], zone) if item["next_event_sync"] else "none due"
            )
            if item.get("event_syncs_deferred") and not item["event_syncs_held"]:
                when += f" ({item['event_syncs_deferred']})"
            click.echo(f"  next event sync: {safe(when)}")
        click.echo(f"  API calls today: {item['api_calls_today']}")
        click.echo(f"  destination API quota: {_quota_line(item['api_quota'], zone)}")
        click.echo(
            f"  documents pending: {item['pending_documents']}, failed: "
            f"{item['failed_documents']}; quarantined records: {item['quarantined']}"
        )
        if reconciled := item.get("last_reconcile"):
            verdict = (
                "ties out" if reconciled["ties"] else f"{reconciled['differences']} difference(s)"
            )
            at = local(datetime.fromisoformat(reconciled["at"]), zone)
            click.echo(f"  last reconcile: {at}: {verdict}")
            for alarm in reconciled.get("alarms") or []:
                click.echo(f"    needs you: {safe(alarm)}")
        for raw, count in sorted(item["unknown_channels"].items()):
            click.echo(f"  unknown channel {safe(raw)!r}: {count} charge(s)")


def _quota_line(quota: dict[str, Any] | None, zone: ZoneInfo) -> str:
    """Calls used today, the quota, what remains (all apps; ledgersync's share) and the reset."""
    if quota is None:
        return "not known yet (read from the destination's answers on the next sync)"
    resets = quota["resets_at"]
    when = f"resets {local(datetime.fromisoformat(resets), zone)}" if resets else "has reset"
    return (
        f"{quota['used_today']:,} calls used today by ledgersync; {quota['limit']:,} a day, "
        f"{quota['remaining']:,} left for all apps ({when}); ledgersync's share "
        f"{quota['share_percent']}% = {quota['share_calls']:,}, {quota['share_left']:,} left"
    )


@click.command("history")
@click.argument("name")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many runs to show, newest first (1 to 10000).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def history_command(host: Host, name: str, limit: int, as_json: bool) -> None:
    """The last runs of NAME: trigger, times, outcome, counts, API calls."""
    zone = load_connection(host, name).timezone
    data = run_history(host, name, limit)
    if as_json:
        emit_json(data)
        return
    if not data:
        click.echo(f"No runs yet for {safe(name)}.")
    for item in data:
        flags = " forced" if item["forced"] else ""
        flags += " dry-run" if item["dry_run"] else ""
        made = created_summary(item["counts"])
        click.echo(
            f"#{item['run']} {local(item['started_at'], zone)} {item['trigger']}{flags}: "
            f"{item['outcome']}; created {made}; {item['api_calls']} API calls"
        )
        if item["error"]:
            click.echo(f"    {safe(item['error'])}")


DAY = click.DateTime(formats=["%Y-%m-%d"])


def ledger_totals(rows: list[dict[str, Any]]) -> list[tuple[str, str, int, Decimal]]:
    """(kind, currency, documents, total amount) for each kind and currency, in order."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        group = (row["kind"], row["currency"])
        counts[group] += 1
        sums[group] += Decimal(row["amount"])
    return [
        (kind, currency, counts[kind, currency], sums[kind, currency])
        for kind, currency in sorted(counts)
    ]


@click.command("ledger")
@click.argument("name")
@click.option("--since", type=DAY, help="Only documents dated on or after this day (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="Only documents dated on or before this day (YYYY-MM-DD).")
@click.option(
    "--kind", type=click.Choice([kind.value for kind in DocumentKind]), help="Only this kind."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@pass_host
def ledger_command(
    host: Host,
    name: str,
    since: datetime | None,
    until: datetime | None,
    kind: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Every document of NAME: date, kind, amount, currency, state, remote id, key; totals."""
    if since and until and since > until:
        raise click.BadParameter(
            f"{since.date()} is after --until {until.date()}.", param_hint="--since"
        )
    where = LedgerFilter(
        kind=kind,
        date_from=since.date() if since else None,
        date_to=until.date() if until else None,
    )
    data = ledger_rows(host, name, where)
    if as_json:
        emit_json(data)
        return
    if as_csv:
        click.echo(ledger_csv(data), nl=False)
        return
    if not data:
        filtered = " with these filters" if where != LedgerFilter() else ""
        click.echo(f"No documents for {safe(name)}{filtered}.")
        return
    click.echo(
        f"{'date':<10}  {'kind':<13} {'amount':>14} {'cur':<3}  {'state':<9} {'remote id':<20} key"
    )
    for item in data:
        click.echo(
            f"{item['date']:<10}  {item['kind']:<13} {item['amount']:>14} {item['currency']:<3}  "
            f"{item['state']:<9} {safe(item['remote_id'] or '-'):<20} {safe(item['key'])}"
        )
    click.echo("Totals:")
    for doc_kind, currency, count, total in ledger_totals(data):
        click.echo(f"  {doc_kind:<13} {total:>14} {currency:<3}  ({count} document(s))")


@click.command("why")
@click.argument("name")
@click.argument("charge_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def why_command(host: Host, name: str, charge_id: str, as_json: bool) -> None:
    """Why is CHARGE_ID (not) in the books? Synced where, or exactly why not."""
    lines = explain_charge(host, name, charge_id)
    if as_json:
        emit_json({"connection": name, "charge_id": charge_id, "explanation": lines})
        return
    for line in lines:
        click.echo(safe(line))


COMMANDS = [status_command, history_command, ledger_command, why_command]
