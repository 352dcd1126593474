"""The payouts as stored, and what the books hold of the charges and refunds they settle.

A payout is a source record of kind ``payout``; it is *transferred* once a ``transfer``
document is assigned to it, and *held* while its skip reason starts with the held prefix the
planner gives. A charge counts as booked once an ``invoice`` is assigned to it, a refund once
a ``credit_note`` is. Every read here runs in the caller's session (the planner's transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from core.documents import DocumentKind
from core.store.driver import chunks
from core.store.models import Assignment, Connection, SourceRecord

__all__ = [
    "connection_by_id",
    "open_payouts",
    "payout_charges",
    "previous_payout_at",
    "refunds_until",
    "set_skip_reason",
]


def _assigned(kind: str) -> Any:
    return exists().where(Assignment.record_id == SourceRecord.id, Assignment.kind == kind)


def connection_by_id(session: Session, connection_id: int) -> Connection:
    """The connection row with id ``connection_id`` (it must exist)."""
    return session.get_one(Connection, connection_id)


def open_payouts(session: Session, connection_id: int, held: str) -> Sequence[SourceRecord]:
    """The payouts not transferred yet that are not skipped (or only held: skip reason
    starting with ``held``), oldest first."""
    return session.scalars(
        select(SourceRecord)
        .where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "payout",
            or_(SourceRecord.skip_reason.is_(None), SourceRecord.skip_reason.startswith(held)),
            ~_assigned(DocumentKind.TRANSFER.value),
        )
        .order_by(SourceRecord.created_at, SourceRecord.id)
    ).all()


def payout_charges(
    session: Session, connection_id: int, charge_ids: Sequence[str]
) -> dict[str, tuple[SourceRecord, bool]]:
    """The stored charges among ``charge_ids`` by source id, each with whether an invoice
    books it."""
    found: dict[str, tuple[SourceRecord, bool]] = {}
    for chunk in chunks(charge_ids):
        for row, planned in session.execute(
            select(SourceRecord, _assigned(DocumentKind.INVOICE.value)).where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == "charge",
                SourceRecord.source_id.in_(chunk),
            )
        ):
            found[row.source_id] = (row, bool(planned))
    return found


def previous_payout_at(
    session: Session, connection_id: int, payout: SourceRecord
) -> datetime | None:
    """When the payout before ``payout`` in its currency was made (ties broken by row id)."""
    return session.scalar(
        select(SourceRecord.created_at)
        .where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == "payout",
            SourceRecord.currency == payout.currency,
            or_(
                SourceRecord.created_at < payout.created_at,
                and_(SourceRecord.created_at == payout.created_at, SourceRecord.id < payout.id),
            ),
        )
        .order_by(SourceRecord.created_at.desc(), SourceRecord.id.desc())
        .limit(1)
    )


def refunds_until(
    session: Session,
    connection_id: int,
    currency: str,
    until: datetime,
    since: datetime | None,
) -> Iterable[tuple[SourceRecord, bool]]:
    """The refunds in ``currency`` made up to ``until`` (and after ``since`` when given),
    each with whether a credit note books it."""
    refunds = select(SourceRecord, _assigned(DocumentKind.CREDIT_NOTE.value)).where(
        SourceRecord.connection_id == connection_id,
        SourceRecord.kind == "refund",
        SourceRecord.currency == currency,
        SourceRecord.created_at <= until,
    )
    if since is not None:
        refunds = refunds.where(SourceRecord.created_at > since)
    return session.execute(refunds)


def set_skip_reason(record: SourceRecord, reason: str | None) -> None:
    """Set (or clear, with None) why ``record`` is not planned; written at the next flush."""
    record.skip_reason = reason
