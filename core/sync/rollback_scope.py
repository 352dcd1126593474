"""Which documents a rollback takes: the scope, closed over groups and dependents.

A scope (``--run N``, or ``--since DATE [--until DATE]`` on the documents' business-local
dates) names documents; a rollback takes more than that, never less:

- a *group*: documents that cover a common record (a Bulk day's invoice, payment and fee
  expense; a daily payment or a daily fee expense and every invoice it covers; a refund's
  credit note and credit refund) are taken whole, because a record is planned again only
  once no document holds it;
- *dependents*: a document whose delivery needed one taken (the payment of an invoice, the
  credit note raised against it, the refund of that credit note) is taken too, because the
  destination will not delete a document something else still points at.

Both rules are applied until nothing more is added. :func:`groups` splits what was taken
into its connected parts: each is deleted whole, or stays whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from core.documents import DocumentKind
from core.store import rollbacks
from core.store.stored_documents import StoredDocument

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["DELETE_ORDER", "Scope", "Taken", "close_over", "groups", "in_scope"]

# Reverse dependency order: what points at a document goes before it.
DELETE_ORDER: Mapping[str, int] = {
    DocumentKind.CREDIT_REFUND.value: 0,
    DocumentKind.CREDIT_NOTE.value: 1,
    DocumentKind.TRANSFER.value: 2,
    DocumentKind.ADJUSTMENT.value: 2,
    DocumentKind.PAYMENT.value: 3,
    DocumentKind.EXPENSE.value: 4,
    DocumentKind.INVOICE.value: 5,
}
_POINTERS = ("invoice_key", "payment_key", "credit_note_key")  # body fields naming a document
_DEPENDENT_KINDS = (
    DocumentKind.PAYMENT.value,
    DocumentKind.CREDIT_NOTE.value,
    DocumentKind.CREDIT_REFUND.value,
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a person asked to roll back: one run's documents, or a span of dates."""

    run: int | None = None
    since: date | None = None
    until: date | None = None  # included

    def describe(self) -> str:
        if self.run is not None:
            return f"run {self.run}"
        if self.until is None:
            return f"documents dated {self.since} on"
        return f"documents dated {self.since} to {self.until}"


@dataclass(frozen=True, slots=True)
class Taken:
    """A document a rollback takes (a detached copy of its row's fields)."""

    id: int
    key: str
    kind: str
    state: str
    doc_date: date
    currency: str
    amount: Any
    attempts: int
    body: Mapping[str, Any]
    in_scope: bool
    delivered_at: datetime | None = None

    @property
    def points_at(self) -> tuple[str, ...]:
        return _pointers(self.body)


def _pointers(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys a stored document names (a daily payment names every invoice it settles)."""
    keys = [str(body[name]) for name in _POINTERS if body.get(name)]
    keys += [str(key) for key in body.get("invoice_keys") or () if str(key) not in keys]
    return tuple(keys)


def in_scope(session: Session, connection_id: int, scope: Scope) -> set[int]:
    """Ids of the documents the scope names (any state but one a rollback already holds)."""
    return rollbacks.documents_in_scope(
        session, connection_id, run=scope.run, since=scope.since, until=scope.until
    )


def _dependents(session: Session, connection_id: int, ids: set[int]) -> set[int]:
    keys, earliest = rollbacks.keys_and_earliest_date(session, ids)
    if earliest is None:
        return set()
    # A dependent is never dated before what it depends on.
    rows = rollbacks.possible_dependents(session, connection_id, _DEPENDENT_KINDS, earliest)
    return {row_id for row_id, body in rows if any(key in keys for key in _pointers(body))}


def close_over(
    session: Session, connection_id: int, ids: set[int], *, states: Sequence[str]
) -> list[Taken]:
    """``ids`` with every group member and dependent added, until nothing more is; only
    documents in ``states`` are kept (others are held by a rollback already)."""
    taken = set(ids)
    while True:
        more = rollbacks.sharing_records(session, taken) | _dependents(
            session, connection_id, taken
        )
        if more <= taken:
            break
        taken |= more
    return [
        _taken(row, row.id in ids)
        for row in rollbacks.documents(session, taken)
        if row.state in states
    ]


def _taken(row: StoredDocument, named: bool) -> Taken:
    return Taken(
        id=row.id,
        key=row.key,
        kind=row.kind,
        state=row.state,
        doc_date=row.doc_date,
        currency=row.currency,
        amount=row.amount,
        attempts=row.attempts or 0,
        body=dict(row.body),
        in_scope=named,
        delivered_at=row.delivered_at,
    )


def groups(session: Session, documents: Sequence[Taken]) -> list[list[Taken]]:
    """The connected parts of ``documents`` (common records, dependencies), each in
    deletion order; parts in the order of their first document."""
    by_id = {doc.id: doc for doc in documents}
    parent = {doc.id: doc.id for doc in documents}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(one: int, other: int) -> None:
        parent[root(one)] = root(other)

    holder: dict[int, int] = {}
    for document_id, record_id in rollbacks.record_holders(session, by_id):
        if record_id in holder:
            join(document_id, holder[record_id])
        else:
            holder[record_id] = document_id
    by_key = {doc.key: doc.id for doc in documents}
    for doc in documents:
        for key in doc.points_at:
            if key in by_key:
                join(doc.id, by_key[key])
    parts: dict[int, list[Taken]] = {}
    for doc in sorted(documents, key=lambda d: d.id):
        parts.setdefault(root(doc.id), []).append(doc)
    return [
        sorted(part, key=lambda d: (DELETE_ORDER.get(d.kind, 0), -d.id)) for part in parts.values()
    ]
