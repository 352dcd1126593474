"""``ledgersync status``, ``history``, ``ledger`` and ``why``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, local, safe
from core.connections.setup import load_connection
from core.host import Host
from core.reports.history import created_summary, run_history
from core.reports.ledger import ledger_csv, ledger_rows
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
        click.echo(f"  last sync: {local(item['last_sync'], zone)} ({item['last_outcome'] or '-'})")
        click.echo(f"  next scheduled sync: {local(item['next_scheduled_sync'], zone)}")
        click.echo(f"  next manual sync allowed: {local(item['next_manual_sync_allowed'], zone)}")
        if item["paused_until"]:
            click.echo(f"  paused until: {local(item['paused_until'], zone)} (daily API limit)")
        click.echo(f"  API calls today: {item['api_calls_today']}")
        click.echo(f"  quarantined records: {item['quarantined']}")
        for raw, count in sorted(item["unknown_channels"].items()):
            click.echo(f"  unknown channel {safe(raw)!r}: {count} charge(s)")


@click.command("history")
@click.argument("name")
@click.option("--limit", default=20, show_default=True)
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


@click.command("ledger")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@pass_host
def ledger_command(host: Host, name: str, as_json: bool, as_csv: bool) -> None:
    """Every document of NAME: key, kind, date, amount, currency, state, remote id."""
    data = ledger_rows(host, name)
    if as_json:
        emit_json(data)
    elif as_csv:
        click.echo(ledger_csv(data), nl=False)
    else:
        if not data:
            click.echo(f"No documents yet for {safe(name)}.")
        for item in data:
            click.echo(
                f"{item['date']}  {item['kind']:<13} {item['amount']:>14} {item['currency']}  "
                f"{item['state']:<9} {safe(item['remote_id'] or '-'):<20} {safe(item['key'])}"
            )


@click.command("why")
@click.argument("name")
@click.argument("charge_id")
@pass_host
def why_command(host: Host, name: str, charge_id: str) -> None:
    """Why is CHARGE_ID (not) in the books? Synced where, or exactly why not."""
    for line in explain_charge(host, name, charge_id):
        click.echo(safe(line))


COMMANDS = [status_command, history_command, ledger_command, why_command]
