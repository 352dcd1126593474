"""The quarantine as a retry reads it: unresolved entries, and records the planner set aside.

A payload that could not become a record is an entry in the quarantine table until it is
resolved. A record the planner could not book (a refund it could not judge) is stored with a
skip reason starting ``quarantined``; taking it back is clearing that reason, so the next sync
plans it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.reasons import QUARANTINED
from core.store.models import QuarantinedRecord, SourceRecord
from core.store.repository import get_connection

__all__ = ["forget_fetched_until", "rejudge_set_aside", "unresolved_entries"]


def unresolved_entries(session: Session, connection_id: int) -> list[dict[str, Any]]:
    """Each unresolved entry: source id, kind, reason, first and last seen, times seen;
    newest first."""
    records = session.scalars(
        select(QuarantinedRecord)
        .where(
            QuarantinedRecord.connection_id == connection_id,
            QuarantinedRecord.resolved_at.is_(None),
        )
        .order_by(QuarantinedRecord.last_seen_at.desc(), QuarantinedRecord.id.desc())
    )
    return [
        {
            "source_id": record.source_id,
            "kind": record.kind,
            "reason": record.reason,
            "first_seen": record.first_seen_at,
            "last_seen": record.last_seen_at,
            "times_seen": record.times_seen,
        }
        for record in records
    ]


def rejudge_set_aside(
    session: Session, connection_id: int, now: datetime
) -> tuple[int, list[tuple[str, str | None]]]:
    """Give every unresolved entry whose record is stored but set aside by the planner back to
    planning (its skip reason cleared, the entry resolved at ``now``); how many, and the
    ``(kind, source id)`` of the other unresolved entries, which need reading again."""
    entries = list(
        session.scalars(
            select(QuarantinedRecord).where(
                QuarantinedRecord.connection_id == connection_id,
                QuarantinedRecord.resolved_at.is_(None),
            )
        )
    )
    planned = {
        (record.kind, record.source_id): record
        for record in session.scalars(
            select(SourceRecord).where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.skip_reason.startswith(QUARANTINED, autoescape=True),
            )
        )
    }
    rejudged = 0
    waiting: list[tuple[str, str | None]] = []
    for entry in entries:
        record = planned.get((entry.kind, entry.source_id or ""))
        if record is not None:  # readable, but the planner could not book it: judge again
            record.skip_reason = None
            entry.resolved_at = now
            rejudged += 1
        else:
            waiting.append((entry.kind, entry.source_id))
    return rejudged, waiting


def forget_fetched_until(session: Session, name: str) -> None:
    """Make the next sync of connection ``name`` fetch every sync period again."""
    row = get_connection(session, name)
    state = dict(row.source_state or {})
    state.pop("fetched_until", None)
    row.source_state = state
