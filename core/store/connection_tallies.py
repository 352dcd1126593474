"""What a connection's status counts: API calls of a day, unresolved quarantine entries,
documents not delivered by state, and charges on channels the mapping does not know.

Each reads in the caller's transaction, so a status is one snapshot."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from core.states import DocumentState
from core.store.models import ApiUsage, DocumentRow, QuarantinedRecord, SourceRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["calls_on", "documents_by_state", "unknown_channels", "unresolved_quarantined"]


def calls_on(session: Session, connection_id: int, day: date) -> Any:
    """The API calls counted for the connection on ``day`` (0 when none)."""
    return session.scalar(
        select(func.coalesce(func.sum(ApiUsage.calls), 0)).where(
            ApiUsage.connection_id == connection_id, ApiUsage.day == day
        )
    )


def unresolved_quarantined(session: Session, connection_id: int) -> Any:
    """How many of the connection's quarantine entries are unresolved."""
    return session.scalar(
        select(func.count()).where(
            QuarantinedRecord.connection_id == connection_id,
            QuarantinedRecord.resolved_at.is_(None),
        )
    )


def documents_by_state(session: Session, connection_id: int) -> dict[str, int]:
    """How many of the connection's documents are in each state other than delivered."""
    rows = session.execute(
        select(DocumentRow.state, func.count())
        .where(
            DocumentRow.connection_id == connection_id, DocumentRow.state != DocumentState.DELIVERED
        )
        .group_by(DocumentRow.state)
    )
    return {str(state): int(count) for state, count in rows}


def unknown_channels(session: Session, connection_id: int) -> dict[str, int]:
    """How many of the connection's charges came on each raw channel that maps to none."""
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
