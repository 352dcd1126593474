"""The outbox's backlog as a forecast reads it: documents planned and not delivered yet."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.states import DocumentState
from core.store.models import DocumentRow

__all__ = ["waiting_currencies", "waiting_documents_by_kind"]


def waiting_documents_by_kind(
    session: Session, connection_id: int
) -> tuple[Counter[str], Counter[str]]:
    """Documents planned in earlier runs and not delivered yet, per kind; and of those, the
    ones an earlier attempt touched (each needs a look-up before it is sent again)."""
    planned: Counter[str] = Counter()
    attempted: Counter[str] = Counter()
    # grouped by the attempts themselves: PostgreSQL does not match ``attempts > 0`` in the
    # select with the same expression in GROUP BY (each binds its own parameter)
    rows = session.execute(
        select(DocumentRow.kind, DocumentRow.attempts, func.count())
        .where(
            DocumentRow.connection_id == connection_id, DocumentRow.state == DocumentState.PLANNED
        )
        .group_by(DocumentRow.kind, DocumentRow.attempts)
    )
    for kind, attempts, count in rows:
        planned[str(kind)] += int(count)
        if attempts:
            attempted[str(kind)] += int(count)
    return planned, attempted


def waiting_currencies(session: Session, connection_id: int) -> set[str]:
    """The currencies of the documents planned and not delivered yet."""
    return set(
        session.scalars(
            select(DocumentRow.currency).where(
                DocumentRow.connection_id == connection_id,
                DocumentRow.state == DocumentState.PLANNED,
            )
        )
    )
