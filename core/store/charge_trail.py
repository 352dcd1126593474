"""What the store holds about one charge, for "why is this charge missing?"
(:mod:`core.sync.diagnosis`): its record and refunds, the documents each was planned into with
their remote ids, an unresolved quarantine, and the payouts that name it.

Rows come back as the store's rows, read in the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.store.models import Assignment, Binding, DocumentRow, QuarantinedRecord, SourceRecord
from core.store.sync_periods import periods_in_order

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["ChargeTrail", "RecordDocuments", "charge_trail", "record_documents", "settling_payouts"]

# The documents a record was planned into, each with its remote id once delivered.
RecordDocuments = list[tuple[DocumentRow, str | None]]


@dataclass(frozen=True, slots=True)
class ChargeTrail:
    """One charge as the store knows it."""

    record: SourceRecord | None  # None: never fetched (or quarantined)
    quarantined: QuarantinedRecord | None  # its unresolved quarantine, if any
    documents: RecordDocuments
    refunds: list[tuple[SourceRecord, RecordDocuments]]  # oldest first
    periods: list[tuple[datetime, datetime | None]]  # the connection's sync periods, in order


def record_documents(session: Session, record_id: int) -> RecordDocuments:
    """The documents a record was planned into, with their remote ids once delivered."""
    rows = session.execute(
        select(DocumentRow, Binding.remote_id)
        .join(Assignment, Assignment.document_id == DocumentRow.id)
        .outerjoin(
            Binding,
            (Binding.connection_id == DocumentRow.connection_id) & (Binding.key == DocumentRow.key),
        )
        .where(Assignment.record_id == record_id)
        .order_by(DocumentRow.id)
    )
    return [(document, remote_id) for document, remote_id in rows]


def charge_trail(session: Session, connection_id: int, charge_id: str) -> ChargeTrail:
    """What the store holds about the connection's charge ``charge_id``."""
    record = session.scalar(
        select(SourceRecord).where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "charge",
            SourceRecord.source_id == charge_id,
        )
    )
    quarantined = session.scalar(
        select(QuarantinedRecord)
        .where(
            QuarantinedRecord.connection_id == connection_id,
            QuarantinedRecord.source_id == charge_id,
            QuarantinedRecord.resolved_at.is_(None),
        )
        .limit(1)
    )
    documents = record_documents(session, record.id) if record is not None else []
    refunds = [
        (refund, record_documents(session, refund.id))
        for refund in session.scalars(
            select(SourceRecord)
            .where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == "refund",
                SourceRecord.charge_id == charge_id,
            )
            .order_by(SourceRecord.created_at)
        )
    ]
    return ChargeTrail(
        record, quarantined, documents, refunds, periods_in_order(session, connection_id)
    )


def settling_payouts(
    session: Session, connection_id: int, charge_id: str
) -> list[tuple[SourceRecord, RecordDocuments]]:
    """The connection's payouts that name ``charge_id``, oldest first, with their documents."""
    return [
        (payout, record_documents(session, payout.id))
        for payout in session.scalars(
            select(SourceRecord)
            .where(SourceRecord.connection_id == connection_id, SourceRecord.kind == "payout")
            .order_by(SourceRecord.created_at)
        )
        if charge_id in ((payout.payload or {}).get("charge_ids") or [])
    ]
