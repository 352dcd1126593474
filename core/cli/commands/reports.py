"""``ledgersync status``, ``history``, ``ledger`` and ``why``."""

from __future__ import annotations

import csv
import sys
from typing import Any

import click
from sqlalchemy import func, select

from core.cli.context import pass_host
from core.cli.output import emit_json, local, safe
from core.connections.schedule import manual_sync_allowed, next_scheduled_sync
from core.host import Host
from core.store.models import ApiUsage, Binding, Connection, DocumentRow, QuarantinedRecord, Run
from core.store.repository import connection_info, get_connection, utcnow
from core.sync.diagnosis import explain_charge


def _status_row(host: Host, row: Connection) -> dict[str, Any]:
    info = connection_info(row)
    now = utcnow()
    with host.database.session() as session:
        calls_today = session.scalar(
            select(func.coalesce(func.sum(ApiUsage.calls), 0)).where(
                ApiUsage.connection_id == row.id, ApiUsage.day == now.date()
            )
        )
        quarantined = session.scalar(
            select(func.count()).where(
                QuarantinedRecord.connection_id == row.id, QuarantinedRecord.resolved_at.is_(None)
            )
        )
        last_run = session.scalar(
            select(Run).where(Run.connection_id == row.id).order_by(Run.id.desc()).limit(1)
        )
        unknown = _unknown_channels(session, row.id)
    allowed, next_manual = manual_sync_allowed(row.last_manual_sync_at, now)
    next_sync = (
        next_scheduled_sync(info.timezone, row.sync_time, row.last_sync_at, now)
        if row.enabled and row.status == "active"
        else None
    )
    return {
        "name": row.name,
        "status": row.status,
        "failure_reason": row.failure_reason,
        "enabled": row.enabled,
        "mode": row.mode,
        "channels": list(info.channels) if info.channels is not None else "all",
        "source": row.source,
        "destination": row.destination,
        "organization": row.destination_org,
        "timezone": row.timezone,
        "last_sync": row.last_sync_at,
        "last_outcome": last_run.outcome if last_run else None,
        "next_scheduled_sync": next_sync,
        "next_manual_sync_allowed": now if allowed else next_manual,
        "paused_until": row.paused_until,
        "api_calls_today": calls_today,
        "quarantined": quarantined,
        "unknown_channels": unknown,
    }


def _unknown_channels(session: Any, connection_id: int) -> dict[str, int]:
    from core.store.models import SourceRecord

    rows = session.execute(
        select(SourceRecord.raw_channel, func.count())
        .where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "charge",
            SourceRecord.channel.is_(None),
        )
        .group_by(SourceRecord.raw_channel)
    )
    return {str(raw): count for raw, count in rows}


@click.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def status_command(host: Host, name: str | None, as_json: bool) -> None:
    """Status of one connection or all: health, schedule, API use, quarantine."""
    with host.database.session() as session:
        if name:
            rows = [get_connection(session, name)]
        else:
            rows = list(session.scalars(select(Connection).order_by(Connection.name)))
    data = [_status_row(host, row) for row in rows]
    if as_json:
        emit_json(data[0] if name else data)
        return
    if not data:
        click.echo("No connections yet.")
    for item, row in zip(data, rows, strict=True):
        zone = connection_info(row).timezone
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
    with host.database.session() as session:
        row = get_connection(session, name)
        zone = connection_info(row).timezone
        runs = list(
            session.scalars(
                select(Run).where(Run.connection_id == row.id).order_by(Run.id.desc()).limit(limit)
            )
        )
    data: list[dict[str, Any]] = [
        {
            "run": run.id,
            "trigger": run.trigger,
            "forced": run.forced,
            "dry_run": run.dry_run,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "outcome": run.outcome,
            "counts": run.counts,
            "skipped": run.skipped,
            "api_calls": run.api_calls,
            "quarantined": run.quarantined,
            "error": run.error,
        }
        for run in runs
    ]
    if as_json:
        emit_json(data)
        return
    if not data:
        click.echo(f"No runs yet for {safe(name)}.")
    for item in data:
        flags = " forced" if item["forced"] else ""
        flags += " dry-run" if item["dry_run"] else ""
        delivered = item["counts"].get("delivered", {}) if item["counts"] else {}
        made = ", ".join(f"{n} {k}" for k, n in sorted(delivered.items())) or "nothing new"
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
    with host.database.session() as session:
        row = get_connection(session, name)
        result = session.execute(
            select(DocumentRow, Binding.remote_id)
            .outerjoin(
                Binding,
                (Binding.connection_id == DocumentRow.connection_id)
                & (Binding.key == DocumentRow.key),
            )
            .where(DocumentRow.connection_id == row.id)
            .order_by(DocumentRow.doc_date, DocumentRow.id)
        )
        data = [
            {
                "key": document.key,
                "kind": document.kind,
                "date": document.doc_date.isoformat(),
                "amount": str(document.amount),
                "currency": document.currency,
                "state": document.state,
                "remote_id": remote_id,
                "error": document.last_error,
            }
            for document, remote_id in result
        ]
    if as_json:
        emit_json(data)
    elif as_csv:
        fields = ["key", "kind", "date", "amount", "currency", "state", "remote_id", "error"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
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
