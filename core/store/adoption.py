"""What adoption (:mod:`core.sync.adoption`) reads and writes in the store: the documents
still planned for a connection, and the organization adoption last finished for (kept in
the cache table)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from core.states import DocumentState
from core.store.database import Database
from core.store.host_entries import host_entry, put_host_entry
from core.store.models import Connection, DocumentRow

__all__ = [
    "ADOPTED_KEY",
    "note_organization_adopted",
    "organization_adopted",
    "planned_bodies",
    "planned_date_range",
]

ADOPTED_KEY = "host:adopted_organization"  # the organization adoption last finished for


def organization_adopted(database: Database, connection_id: int) -> bool:
    """Whether adoption last finished for the organization the connection writes to now."""
    with database.session() as session:
        organization = session.get_one(Connection, connection_id).destination_org
        adopted = host_entry(session, connection_id, ADOPTED_KEY)
        return adopted is not None and adopted.value == organization


def note_organization_adopted(database: Database, connection_id: int, now: datetime) -> None:
    """Adoption finished for the organization the connection writes to now."""
    with database.session() as session:
        organization = session.get_one(Connection, connection_id).destination_org
        put_host_entry(session, connection_id, ADOPTED_KEY, organization, now)


def _planned(connection_id: int) -> tuple[Any, ...]:
    return (
        DocumentRow.connection_id == connection_id,
        DocumentRow.state == DocumentState.PLANNED,
    )


def planned_date_range(
    database: Database, connection_id: int
) -> tuple[date, date] | tuple[None, None]:
    """The first and last document date of the connection's planned documents (None, None:
    nothing is planned)."""
    with database.session() as session:
        first, last = session.execute(
            select(func.min(DocumentRow.doc_date), func.max(DocumentRow.doc_date)).where(
                *_planned(connection_id)
            )
        ).one()
    return first, last


def planned_bodies(database: Database, connection_id: int) -> list[tuple[str, dict[str, Any]]]:
    """``(key, body)`` of each planned document of the connection, the body as stored."""
    with database.session() as session:
        rows = session.execute(
            select(DocumentRow.key, DocumentRow.body).where(*_planned(connection_id))
        ).all()
    return [(key, body) for key, body in rows]
