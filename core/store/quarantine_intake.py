"""The quarantine table's side of ingest: a bad payload becomes an entry, or bumps its own.

An entry is one (kind, source id, reason); a payload without a source id can only be told
apart by its text, so that text is part of its identity. Seen again, an entry counts the
sighting, keeps the latest payload and is open again if it had been resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.records import Quarantined
from core.store.driver import chunks
from core.store.models import QuarantinedRecord
from core.store.payloads import payload_text

__all__ = ["QuarantineCounts", "add_to_quarantine"]


@dataclass(slots=True)
class QuarantineCounts:
    """Entries made for the first time, and sightings of entries already there."""

    new: int = 0
    again: int = 0


def add_to_quarantine(
    session: Session, connection_id: int, items: Sequence[Quarantined], now: datetime
) -> QuarantineCounts:
    """Add each item to the quarantine, or bump the entry it already has."""
    counts = QuarantineCounts()
    seen: dict[tuple[str, str | None, str, str], tuple[Quarantined, int]] = {}
    for item in items:
        # Items without a source id can only be told apart by their payload.
        text = payload_text(item.payload) if item.source_id is None else ""
        key = (item.kind, item.source_id, item.reason, text)
        previous = seen.get(key)
        seen[key] = (item, previous[1] + 1 if previous else 1)
    reasons = sorted({item.reason for item in items})
    entries: dict[tuple[str, str | None, str, str], QuarantinedRecord] = {}
    for chunk in chunks(reasons):
        for row in session.scalars(
            select(QuarantinedRecord).where(
                QuarantinedRecord.connection_id == connection_id,
                QuarantinedRecord.reason.in_(chunk),
            )
        ):
            text = row.payload if row.source_id is None else ""
            entries[(row.kind, row.source_id, row.reason, text)] = row
    for key, (item, times) in seen.items():
        entry = entries.get(key)
        if entry is None:
            session.add(
                QuarantinedRecord(
                    connection_id=connection_id,
                    kind=item.kind,
                    source_id=item.source_id,
                    reason=item.reason,
                    payload=payload_text(item.payload),
                    first_seen_at=now,
                    last_seen_at=now,
                    times_seen=times,
                )
            )
            counts.new += 1
            counts.again += times - 1
        else:
            entry.times_seen += times
            entry.last_seen_at = now
            entry.payload = payload_text(item.payload)
            entry.resolved_at = None
            counts.again += times
    session.flush()
    return counts
