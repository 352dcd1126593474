"""What ``verify --repair`` reads and writes: a connection's documents, planned again under
new keys in the caller's one transaction (:mod:`core.sync.repair`).

A document planned again keeps its row (its records, its place in the ledger) and takes a new
key; the old key's binding stays, as history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.states import DocumentState
from core.store.models import DocumentRow
from core.store.stored_documents import StoredDocument, copy_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Replanning", "planned_keys"]


class Replanning:
    """A connection's documents in one transaction (the caller's session), to plan some of
    them again under new keys and to make the others name the new keys."""

    def __init__(self, session: Session, connection_id: int) -> None:
        self._rows = {
            row.id: row
            for row in session.scalars(
                select(DocumentRow).where(DocumentRow.connection_id == connection_id)
            )
        }

    def documents(self) -> list[StoredDocument]:
        """Every document of the connection, copied as it is now, in the order read."""
        return [copy_of(row) for row in self._rows.values()]

    def replan_under(self, document_id: int, new_key: str, now: datetime) -> None:
        """The document is planned again, as never attempted, under ``new_key``."""
        row = self._rows[document_id]
        row.key = new_key
        row.state = DocumentState.PLANNED
        row.attempts = 0
        row.last_error = None
        row.attempted_at = None
        row.delivered_at = None
        row.planned_at = now

    def rewrite_body(self, document_id: int, body: Mapping[str, Any]) -> None:
        """The document's stored body becomes ``body`` (the keys it names, renamed)."""
        self._rows[document_id].body = dict(body)


def planned_keys(session: Session, connection_id: int) -> list[str]:
    """The keys of the connection's documents planned and not delivered yet."""
    return list(
        session.scalars(
            select(DocumentRow.key).where(
                DocumentRow.connection_id == connection_id,
                DocumentRow.state == DocumentState.PLANNED,
            )
        ).all()
    )
