"""Answers "why is this charge missing?" for one charge, from the store and, if need be, the source.

The answer is one of: synced (into which documents, with their remote ids), or not and exactly
why: created before sync was enabled or while it was disabled, its channel not selected, its
bulk day not closed yet (and when it closes), quarantined (the reason), not fetched yet (the
last sync time), not a sale at the source, or unknown to the source.

A source may offer ``lookup(charge_id) -> Charge | None`` (None: the source does not know the
id; BadRecord: it exists but is no sale that syncs). Without it, a charge the store has never
seen is reported as not fetched yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.contracts import ConnectionInfo
from core.errors import BadRecord, LedgersyncError
from core.host import Host
from core.records import Charge
from core.states import SyncMode
from core.store.charge_trail import RecordDocuments, charge_trail, settling_payouts
from core.store.repository import connection_info, get_connection, utcnow
from core.sync.payouts import HELD

if TYPE_CHECKING:  # the store's types, named in signatures only
    from sqlalchemy.orm import Session

__all__ = ["explain_charge"]

Period = tuple[datetime, datetime | None]


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    """``moment`` on the connection's wall clock, e.g. ``2026-11-24 10:00 +08``."""
    if moment is None:
        return "never"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def explain_charge(host: Host, name: str, charge_id: str, now: datetime | None = None) -> list[str]:
    """Lines that say where the charge went, or exactly why it has not, and the payout that
    settled it (if a payout names it)."""
    lines = _explain_charge(host, name, charge_id, now)
    with host.database.session() as session:
        row = get_connection(session, name)
        zone = connection_info(row).timezone
        lines += settled_by(session, row.id, charge_id, zone)
    return lines


def _explain_charge(
    host: Host, name: str, charge_id: str, now: datetime | None = None
) -> list[str]:
    now = now or utcnow()
    with host.database.session() as session:
        row = get_connection(session, name)
        info = connection_info(row)
        last_sync = row.last_sync_at
        trail = charge_trail(session, row.id, charge_id)
    record, quarantined, periods = trail.record, trail.quarantined, trail.periods
    documents, refunds = trail.documents, trail.refunds
    if record is None:
        if quarantined is not None:
            return [
                f"Charge {charge_id} is quarantined: {quarantined.reason}",
                "It could not be read as a sale; once the source sends it readable, the next "
                "sync takes it.",
            ]
        return _not_in_store(host, info, charge_id, periods, last_sync)
    zone = info.timezone
    head = (
        f"Charge {charge_id} ({record.amount} {record.currency}, "
        f"created {local(record.created_at, zone)})"
    )
    if documents:
        lines = [f"{head} is synced into:", *_document_lines(documents, "  ")]
        for refund, refund_documents in refunds:
            lines.append(
                f"  Refund {refund.source_id} ({refund.amount} {refund.currency}, "
                f"{local(refund.created_at, zone)}):"
            )
            if refund_documents:
                lines.extend(_document_lines(refund_documents, "    "))
            elif refund.skip_reason:
                lines.append(f"    not synced: {refund.skip_reason}.")
            else:
                lines.append("    not planned yet: the next sync after its day closes takes it.")
        return lines
    if outside := _outside_periods(record.created_at, periods, zone):
        return [f"{head} is not synced: {outside}"]
    if record.skip_reason:
        return [f"{head} is not synced: {record.skip_reason}."]
    if (unselected := _channel_unselected(record.channel, record.raw_channel, info)) is not None:
        return [f"{head} is not synced: {unselected}"]
    if info.mode == SyncMode.BULK:
        local_day = record.created_at.astimezone(zone).date()
        closes = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
        if closes > now:
            return [
                f"{head} waits for its bulk day {local_day} to close at {local(closes, zone)}; "
                "the first sync after that puts it in the day's invoice."
            ]
    return [
        f"{head} is fetched and will be planned and delivered at the next sync "
        f"(last sync: {local(last_sync, zone)})."
    ]


def settled_by(session: Session, connection_id: int, charge_id: str, zone: ZoneInfo) -> list[str]:
    """Lines naming the payout(s) that settled ``charge_id`` and how each was booked."""
    lines: list[str] = []
    for payout, documents in settling_payouts(session, connection_id, charge_id):
        lines.append(
            f"Settled by payout {payout.source_id} ({payout.amount} {payout.currency}, paid "
            f"{local(payout.created_at, zone)}):"
        )
        if documents:
            lines.extend(_document_lines(documents, "  "))
        elif payout.skip_reason:
            lines.append(f"  not booked: {payout.skip_reason.removeprefix(HELD)}.")
        else:
            lines.append("  not booked yet: the next sync books it.")
    return lines


def _document_lines(documents: RecordDocuments, indent: str) -> list[str]:
    lines = []
    for document, remote_id in documents:
        where = f"remote id {remote_id}" if remote_id else f"not yet delivered ({document.state})"
        lines.append(f"{indent}{document.kind} {document.key}: {where}")
        if document.last_error:
            lines.append(f"{indent}  last error: {document.last_error}")
    return lines


def _outside_periods(created: datetime, periods: Sequence[Period], zone: ZoneInfo) -> str:
    """Why ``created`` lies outside every sync period, or "" when it lies inside one."""
    if any(start <= created and (end is None or created < end) for start, end in periods):
        return ""
    skipped = "such charges are skipped for good."
    if not periods:
        return f"sync has never been enabled; {skipped}"
    if created < periods[0][0]:
        return (
            f"it was created before sync was enabled (sync starts at "
            f"{local(periods[0][0], zone)}); {skipped}"
        )
    ended = max(end for _start, end in periods if end is not None and end <= created)
    later = [start for start, _end in periods if start > created]
    until = f" until {local(min(later), zone)}" if later else ""
    return f"it was created while sync was disabled (from {local(ended, zone)}{until}); {skipped}"


def _channel_unselected(
    channel: str | None, raw_channel: str | None, info: ConnectionInfo
) -> str | None:
    if info.channels is None or (channel is not None and channel in info.channels):
        return None
    shown = channel or f"{raw_channel or '(none)'!r} (unknown)"
    return (
        f"its channel {shown} is not selected (selected: {', '.join(info.channels)}); "
        "charges from unselected channels are not synced."
    )


def _not_in_store(
    host: Host,
    info: ConnectionInfo,
    charge_id: str,
    periods: Sequence[Period],
    last_sync: datetime | None,
) -> list[str]:
    zone = info.timezone
    waiting = [
        f"Charge {charge_id} has not been fetched yet (last sync: {local(last_sync, zone)}).",
        f"Wait for the next automatic sync or run `ledgersync sync {info.name}`.",
    ]
    try:
        source, _calls = host.open_source(info.name)
        lookup = getattr(source, "lookup", None)
        if lookup is None:
            return waiting
        found: Charge | None = lookup(charge_id)
    except BadRecord as reason:
        return [f"Charge {charge_id} is not synced: {reason.message}."]
    except LedgersyncError as error:
        return [*waiting, f"(The source could not be asked about it: {error})"]
    name = getattr(source, "display_name", info.source)
    if found is None:
        return [f"Charge {charge_id} is unknown to {name}: check the id and the business."]
    head = (
        f"Charge {charge_id} ({found.amount} {found.currency}, "
        f"created {local(found.created_at, zone)})"
    )
    if outside := _outside_periods(found.created_at, periods, zone):
        return [f"{head} is not synced: {outside}"]
    if (unselected := _channel_unselected(found.channel, found.raw_channel, info)) is not None:
        return [f"{head} is not synced: {unselected}"]
    return [
        f"{head} exists at {name} but has not been fetched yet "
        f"(last sync: {local(last_sync, zone)}).",
        waiting[1],
    ]
