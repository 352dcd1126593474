"""The ledger as the store reads it: a connection's documents with their remote ids, by date
then planning order, narrowed by a :class:`LedgerFilter`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, select

from core.store.models import Binding, DocumentRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["LedgerFilter", "ledger_documents"]

Q = TypeVar("Q", bound="Select[Any, Any]")


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """Which documents to show; every field None or empty shows them all."""

    kind: str | None = None
    state: str | None = None
    currency: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    key_contains: str | None = None

    def apply(self, query: Q) -> Q:
        if self.kind:
            query = query.where(DocumentRow.kind == self.kind)
        if self.state:
            query = query.where(DocumentRow.state == self.state)
        if self.currency:
            query = query.where(DocumentRow.currency == self.currency.upper())
        if self.date_from:
            query = query.where(DocumentRow.doc_date >= self.date_from)
        if self.date_to:
            query = query.where(DocumentRow.doc_date <= self.date_to)
        if self.key_contains:
            query = query.where(DocumentRow.key.contains(self.key_contains, autoescape=True))
        return query


def ledger_documents(
    session: Session, connection_id: int, where: LedgerFilter | None, limit: int | None
) -> list[tuple[DocumentRow, str | None]]:
    """The connection's documents each with its remote id (None when unbound), by date then
    planning order; those ``where`` admits, at most ``limit``."""
    query = (
        select(DocumentRow, Binding.remote_id)
        .outerjoin(
            Binding,
            (Binding.connection_id == DocumentRow.connection_id) & (Binding.key == DocumentRow.key),
        )
        .where(DocumentRow.connection_id == connection_id)
        .order_by(DocumentRow.doc_date, DocumentRow.id)
    )
    query = (where or LedgerFilter()).apply(query)
    if limit is not None:
        query = query.limit(limit)
    return [(document, remote_id) for document, remote_id in session.execute(query)]
