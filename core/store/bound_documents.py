"""Delivered documents and the remote ids they were bound to on delivery.

``verify`` reads every delivered document back by its remote id; a rollback needs the remote
id of each document it deletes (and of those it points at).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.states import DocumentState
from core.store.driver import chunks
from core.store.models import Binding, DocumentRow
from core.store.stored_documents import StoredDocument, copy_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["delivered_documents", "remote_ids"]


def delivered_documents(
    session: Session, connection_id: int, since: date | None = None
) -> list[tuple[StoredDocument, str]]:
    """The connection's delivered documents (dated ``since`` on) with their remote ids, by
    date; a delivered document without a binding is not listed."""
    query = (
        select(DocumentRow, Binding.remote_id)
        .join(
            Binding,
            (Binding.connection_id == DocumentRow.connection_id) & (Binding.key == DocumentRow.key),
        )
        .where(
            DocumentRow.connection_id == connection_id,
            DocumentRow.state == DocumentState.DELIVERED,
        )
        .order_by(DocumentRow.doc_date, DocumentRow.id)
    )
    if since is not None:
        query = query.where(DocumentRow.doc_date >= since)
    return [(copy_of(row), str(remote)) for row, remote in session.execute(query)]


def remote_ids(session: Session, connection_id: int, keys: Sequence[str]) -> dict[str, str]:
    """The remote id each of ``keys`` is bound to (keys not bound are left out)."""
    found: dict[str, str] = {}
    for chunk in chunks(keys):
        found.update(
            (key, remote_id)
            for key, remote_id in session.execute(
                select(Binding.key, Binding.remote_id).where(
                    Binding.connection_id == connection_id,
                    Binding.key.in_(chunk),
                )
            )
        )
    return found
