"""A document as the store holds it, copied out of its row for a caller outside the store.

``verify``, ``rollback`` and ``--repair`` read documents they compare, take back or plan
again; they get a :class:`StoredDocument`, never the row itself, so nothing they do to it
reaches the store except through a store function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.store.models import DocumentRow

__all__ = ["StoredDocument", "copy_of"]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A detached copy of a document row's fields."""

    id: int
    connection_id: int
    key: str
    kind: str
    state: str
    doc_date: date
    currency: str
    amount: Decimal
    attempts: int
    body: Mapping[str, Any]
    delivered_at: datetime | None


def copy_of(row: DocumentRow) -> StoredDocument:
    return StoredDocument(
        id=row.id,
        connection_id=row.connection_id,
        key=row.key,
        kind=row.kind,
        state=row.state,
        doc_date=row.doc_date,
        currency=row.currency,
        amount=row.amount,
        attempts=row.attempts,
        body=row.body,
        delivered_at=row.delivered_at,
    )
