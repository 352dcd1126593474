"""What a rollback reads and writes: the documents a scope names, what they close over, and
the steps that take them back (:mod:`core.sync.rollback`, :mod:`core.sync.rollback_scope`).

Every function works in the caller's session: each step of a rollback is its own
transaction, opened by the caller, so that a crash between steps leaves what the next
rollback finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from core.contracts import AccountSettings
from core.states import DocumentState
from core.store.driver import chunks
from core.store.models import Assignment, Binding, Connection, DocumentRow
from core.store.repository import connection_info
from core.store.stored_documents import StoredDocument, copy_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "HELD",
    "LIVE",
    "book_again_or_keep",
    "current_settings",
    "documents",
    "documents_in_scope",
    "held_documents",
    "keys_and_earliest_date",
    "mark_deleted",
    "mark_deleting",
    "possible_dependents",
    "record_holders",
    "release_group",
    "sharing_records",
]

LIVE = ("planned", "delivered", "failed")  # states a rollback may take a document from
HELD = (DocumentState.DELETING, DocumentState.DELETED)  # states of what a rollback holds


def _chunks(values: Iterable[int]) -> Iterator[Sequence[int]]:
    """``values`` in ascending order, in slices that bound an ``IN`` list."""
    return chunks(sorted(values))


# --- the scope and what it closes over ---------------------------------------------------


def documents_in_scope(
    session: Session,
    connection_id: int,
    *,
    run: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> set[int]:
    """Ids of the connection's documents of one run, or dated ``since`` to ``until``
    (included), in any state but one a rollback already holds."""
    query = select(DocumentRow.id).where(
        DocumentRow.connection_id == connection_id,
        DocumentRow.state.in_(LIVE),
    )
    if run is not None:
        query = query.where(DocumentRow.run_id == run)
    if since is not None:
        query = query.where(DocumentRow.doc_date >= since)
    if until is not None:
        query = query.where(DocumentRow.doc_date <= until)
    return set(session.scalars(query))


def sharing_records(session: Session, ids: set[int]) -> set[int]:
    """Ids of every document that holds a record one of ``ids`` holds (``ids`` included)."""
    records: set[int] = set()
    for chunk in _chunks(ids):
        records.update(
            session.scalars(select(Assignment.record_id).where(Assignment.document_id.in_(chunk)))
        )
    found: set[int] = set()
    for chunk in _chunks(records):
        found.update(
            session.scalars(select(Assignment.document_id).where(Assignment.record_id.in_(chunk)))
        )
    return found


def keys_and_earliest_date(session: Session, ids: set[int]) -> tuple[set[str], date | None]:
    """The keys of ``ids`` and the earliest of their dates (None when there are none)."""
    keys: set[str] = set()
    earliest: date | None = None
    for chunk in _chunks(ids):
        for key, day in session.execute(
            select(DocumentRow.key, DocumentRow.doc_date).where(DocumentRow.id.in_(chunk))
        ):
            keys.add(key)
            earliest = day if earliest is None or day < earliest else earliest
    return keys, earliest


def possible_dependents(
    session: Session, connection_id: int, kinds: Sequence[str], dated_from: date
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(id, body) of the connection's documents of ``kinds`` dated ``dated_from`` on: the
    documents that may point at one dated then or before."""
    yield from session.execute(
        select(DocumentRow.id, DocumentRow.body).where(
            DocumentRow.connection_id == connection_id,
            DocumentRow.kind.in_(kinds),
            DocumentRow.doc_date >= dated_from,
        )
    )


def documents(session: Session, ids: Iterable[int]) -> Iterator[StoredDocument]:
    """The documents ``ids``, copied, in chunks of ascending ids."""
    for chunk in _chunks(ids):
        for row in session.scalars(select(DocumentRow).where(DocumentRow.id.in_(chunk))):
            yield copy_of(row)


def record_holders(session: Session, ids: Iterable[int]) -> Iterator[tuple[int, int]]:
    """(document id, record id) for every record one of ``ids`` holds."""
    for chunk in _chunks(ids):
        yield from session.execute(
            select(Assignment.document_id, Assignment.record_id).where(
                Assignment.document_id.in_(chunk)
            )
        )


def held_documents(session: Session, connection_id: int) -> set[int]:
    """Ids of the connection's documents a rollback holds (``deleting`` or ``deleted``)."""
    return set(
        session.scalars(
            select(DocumentRow.id).where(
                DocumentRow.connection_id == connection_id, DocumentRow.state.in_(HELD)
            )
        )
    )


def current_settings(session: Session, connection_id: int) -> AccountSettings:
    """The connection's account settings as they are now."""
    return connection_info(session.get_one(Connection, connection_id)).settings


# --- the steps ---------------------------------------------------------------------------


def mark_deleting(session: Session, ids: Sequence[int]) -> None:
    """Step 1: ``ids`` become ``deleting`` (those a rollback does not hold already)."""
    for chunk in chunks(ids):
        session.execute(
            update(DocumentRow)
            .where(
                DocumentRow.id.in_(chunk),
                DocumentRow.state.in_(LIVE),
            )
            .values(state=DocumentState.DELETING, last_error=None)
        )


def mark_deleted(session: Session, connection_id: int, document_id: int, key: str) -> None:
    """Step 2, once the destination deleted it: the key is unbound, the document ``deleted``."""
    session.execute(
        delete(Binding).where(Binding.connection_id == connection_id, Binding.key == key)
    )
    session.execute(
        update(DocumentRow).where(DocumentRow.id == document_id).values(state=DocumentState.DELETED)
    )


def release_group(session: Session, ids: Sequence[int]) -> int:
    """Step 3: the group's documents and assignments go; its records are unplanned again.
    Returns how many records were released."""
    records = set(
        session.scalars(select(Assignment.record_id).where(Assignment.document_id.in_(ids)))
    )
    session.execute(delete(Assignment).where(Assignment.document_id.in_(ids)))
    session.execute(delete(DocumentRow).where(DocumentRow.id.in_(ids)))
    return len(records)


def book_again_or_keep(
    session: Session, ids: Sequence[int], *, booked_again: str, kept: Mapping[int, str]
) -> list[int]:
    """A group that stays: each of ``ids`` already ``deleted`` is planned again as it was
    (attempts 0, ``booked_again`` as its last error); each other one is delivered again if
    its key is still bound, else planned, with ``kept``'s note for it (or none). Returns the
    ids planned again, in the order of ``ids``."""
    again: list[int] = []
    for document_id in ids:
        row = session.get_one(DocumentRow, document_id)
        if row.state == DocumentState.DELETED:
            row.state, row.attempts = "planned", 0
            row.last_error = booked_again
            again.append(document_id)
        else:
            has_binding = session.scalar(
                select(Binding.id).where(
                    Binding.connection_id == row.connection_id, Binding.key == row.key
                )
            )
            row.state = DocumentState.DELIVERED if has_binding is not None else "planned"
            row.last_error = kept.get(document_id)
    return again
