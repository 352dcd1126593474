"""What reconcile reads to rebuild the clearing account: the outbox, the payouts fetched, and
the charges and refunds not planned yet. Read only; each read runs in the caller's session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.models import Assignment, DocumentRow, SourceRecord

__all__ = ["fetched_payouts", "outbox_documents", "unplanned_records", "untransferred_payouts"]


def outbox_documents(session: Session, connection_id: int) -> Iterable[DocumentRow]:
    """Every document of the connection's outbox, whatever its state."""
    return session.scalars(select(DocumentRow).where(DocumentRow.connection_id == connection_id))


def fetched_payouts(session: Session, connection_id: int) -> Iterable[SourceRecord]:
    """Every payout fetched for the connection."""
    return session.scalars(
        select(SourceRecord).where(
            SourceRecord.connection_id == connection_id, SourceRecord.kind == "payout"
        )
    )


def untransferred_payouts(session: Session, connection_id: int) -> Sequence[SourceRecord]:
    """The payouts no transfer document is assigned to yet (held, waiting or skipped)."""
    transferred = select(Assignment.record_id).where(Assignment.kind == "transfer")
    return session.scalars(
        select(SourceRecord).where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "payout",
            SourceRecord.id.not_in(transferred),
        )
    ).all()


def unplanned_records(session: Session, connection_id: int) -> Iterable[SourceRecord]:
    """The charges and refunds neither skipped nor assigned to a document yet."""
    assigned = select(Assignment.record_id)
    return session.scalars(
        select(SourceRecord).where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind.in_(("charge", "refund")),
            SourceRecord.skip_reason.is_(None),
            SourceRecord.id.not_in(assigned),
        )
    )
