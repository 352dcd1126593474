"""Webhook events in the store: each accepted once, pending until an event sync has polled.

An event is the same event when its connection, object, object id, change and body digest
are: a redelivery or a replay finds the row already there and stores nothing. Events never
become records here; they only say that the source has news (see :mod:`core.scheduling.events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.events import SourceEvent
from core.store.database import Database
from core.store.models import SourceEventRow

__all__ = ["EventBacklog", "event_backlog", "mark_handled", "store_event"]


def _exists(database: Database, connection_id: int, event: SourceEvent) -> bool:
    with database.session() as session:
        found = session.scalar(
            select(SourceEventRow.id).where(
                SourceEventRow.connection_id == connection_id,
                SourceEventRow.object == event.object,
                SourceEventRow.object_id == event.object_id,
                SourceEventRow.event_type == event.event_type,
                SourceEventRow.digest == event.digest,
            )
        )
    return found is not None


def store_event(database: Database, connection_id: int, event: SourceEvent, now: datetime) -> bool:
    """Store ``event`` unless it is stored already; True when it is new."""
    if _exists(database, connection_id, event):
        return False
    try:
        with database.session() as session:
            session.add(
                SourceEventRow(
                    connection_id=connection_id,
                    object=event.object,
                    object_id=event.object_id,
                    event_type=event.event_type,
                    digest=event.digest,
                    payload=event.payload,
                    changed_at=event.changed_at,
                    received_at=now,
                )
            )
    except IntegrityError:  # the same event delivered twice at once: the other one stored it
        return False
    return True


@dataclass(frozen=True, slots=True)
class EventBacklog:
    """A connection's events: how many wait for an event sync, since when, and the last one."""

    pending: int
    first_pending_at: datetime | None
    last_received_at: datetime | None
    last_event: str | None


def event_backlog(database: Database, connection_id: int) -> EventBacklog:
    with database.session() as session:
        pending, first = session.execute(
            select(func.count(), func.min(SourceEventRow.received_at)).where(
                SourceEventRow.connection_id == connection_id,
                SourceEventRow.handled_at.is_(None),
            )
        ).one()
        last = session.execute(
            select(SourceEventRow.received_at, SourceEventRow.object, SourceEventRow.event_type)
            .where(SourceEventRow.connection_id == connection_id)
            .order_by(SourceEventRow.received_at.desc(), SourceEventRow.id.desc())
            .limit(1)
        ).first()
    return EventBacklog(
        pending=int(pending or 0),
        first_pending_at=first,
        last_received_at=last[0] if last else None,
        last_event=f"{last[1]}.{last[2]}" if last else None,
    )


def mark_handled(
    database: Database,
    connection_id: int,
    *,
    received_by: datetime,
    run_id: int | None,
    now: datetime,
) -> int:
    """Mark the events received up to ``received_by`` as covered by run ``run_id``."""
    with database.session() as session:
        result = session.execute(
            update(SourceEventRow)
            .where(
                SourceEventRow.connection_id == connection_id,
                SourceEventRow.handled_at.is_(None),
                SourceEventRow.received_at <= received_by,
            )
            .values(handled_at=now, run_id=run_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)
