"""Answers "why is this charge missing?" for one charge, from what the store knows."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from core.commands.output import local
from core.host import Host
from core.store.models import (
    Assignment,
    Binding,
    DocumentRow,
    QuarantinedRecord,
    SourceRecord,
    SyncPeriod,
)
from core.store.repository import connection_info, get_connection, utcnow

__all__ = ["explain_charge"]


def explain_charge(host: Host, name: str, charge_id: str) -> list[str]:
    """Lines that say where the charge went, or exactly why it has not."""
    with host.database.session() as session:
        row = get_connection(session, name)
        info = connection_info(row)
        zone = info.timezone
        record = session.scalar(
            select(SourceRecord).where(
                SourceRecord.connection_id == row.id,
                SourceRecord.kind == "charge",
                SourceRecord.source_id == charge_id,
            )
        )
        if record is None:
            quarantined = session.scalar(
                select(QuarantinedRecord).where(
                    QuarantinedRecord.connection_id == row.id,
                    QuarantinedRecord.source_id == charge_id,
                )
            )
            if quarantined is not None:
                return [
                    f"Charge {charge_id} is quarantined: {quarantined.reason}",
                    "It could not be read as a sale; fix it at the source and it syncs at "
                    "the next sync.",
                ]
            return _not_fetched(host, name, charge_id, row.last_sync_at, zone)
        documents = session.execute(
            select(DocumentRow, Binding.remote_id)
            .join(Assignment, Assignment.document_id == DocumentRow.id)
            .outerjoin(
                Binding,
                (Binding.connection_id == DocumentRow.connection_id)
                & (Binding.key == DocumentRow.key),
            )
            .where(Assignment.record_id == record.id)
            .order_by(DocumentRow.id)
        ).all()
        periods = list(
            session.scalars(select(SyncPeriod).where(SyncPeriod.connection_id == row.id))
        )
    created = local(record.created_at, zone)
    head = f"Charge {charge_id} ({record.amount} {record.currency}, created {created})"
    if documents:
        lines = [f"{head} is synced into:"]
        for document, remote_id in documents:
            where = (
                f"remote id {remote_id}" if remote_id else f"not yet delivered ({document.state})"
            )
            lines.append(f"  {document.kind} {document.key}: {where}")
            if document.last_error:
                lines.append(f"    last error: {document.last_error}")
        return lines
    if record.skip_reason:
        return [f"{head} is not synced: {record.skip_reason}."]
    inside = any(
        p.started_at <= record.created_at and (p.ended_at is None or record.created_at < p.ended_at)
        for p in periods
    )
    if not inside:
        return [
            f"{head} is not synced: it was created before sync was enabled or while it was "
            "disabled; such charges are skipped for good."
        ]
    if info.channels is not None and record.channel not in info.channels:
        channel = record.channel or f"unknown ({record.raw_channel})"
        return [f"{head} is not synced: its channel {channel} is not selected."]
    if info.mode == "bulk":
        local_day = record.created_at.astimezone(zone).date()
        closes = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
        if closes > utcnow():
            return [
                f"{head} waits for its bulk day {local_day} to close at {local(closes, zone)}; "
                "the first sync after that puts it in the day's invoice."
            ]
    return [f"{head} is fetched and will be planned and delivered at the next sync."]


def _not_fetched(
    host: Host, name: str, charge_id: str, last_sync: datetime | None, zone: object
) -> list[str]:
    source, _calls = host.open_source(name)
    lookup = getattr(source, "lookup", None)
    if lookup is not None:
        found = lookup(charge_id)
        if found is None:
            return [f"Charge {charge_id} is unknown to {source.display_name}: check the id."]
    when = local(last_sync, zone) if last_sync else "never"  # type: ignore[arg-type]
    return [
        f"Charge {charge_id} has not been fetched yet (last sync: {when}).",
        f"Wait for the next automatic sync or run `ledgersync sync {name}`.",
    ]
