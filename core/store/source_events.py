"""Webhook events as the store keeps them: each stored once, pending until an event sync
covers it; and the charges pending events name that the store holds no record of.

The pipeline's rules for events are :mod:`core.sync.events` and :mod:`core.sync.confirm`;
every statement they need is here.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.events import SourceEvent
from core.store.database import Database
from core.store.models import Connection, SourceEventRow, SourceRecord

__all__ = [
    "EventTally",
    "add_event",
    "event_known",
    "event_tally",
    "events_pending_by",
    "mark_events_handled",
    "unrecorded_charge_ids",
]


class EventTally(NamedTuple):
    """A connection's events as counted in one transaction."""

    pending: int
    first_pending_at: datetime | None
    last: tuple[datetime, str, str] | None  # (received_at, object, event type) of the newest


def event_known(database: Database, connection_id: int, event: SourceEvent) -> bool:
    """Whether the store holds ``event`` already (same object, id, change and body digest)."""
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


def add_event(database: Database, connection_id: int, event: SourceEvent, now: datetime) -> bool:
    """Store ``event`` as received ``now``, pending; False when the same event was stored at
    the same moment by another delivery of it (the store's unique key refused this one)."""
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
    except IntegrityError:
        return False
    return True


def event_tally(database: Database, connection_id: int) -> EventTally:
    """How many events wait for an event sync, since when, and the newest event received."""
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
    return EventTally(
        pending=int(pending or 0),
        first_pending_at=first,
        last=(last[0], last[1], last[2]) if last else None,
    )


def events_pending_by(database: Database, name: str, due: datetime) -> bool:
    """Whether connection ``name`` has an event received by ``due`` still pending."""
    with database.session() as session:
        found = session.scalar(
            select(SourceEventRow.id)
            .join(Connection, Connection.id == SourceEventRow.connection_id)
            .where(
                Connection.name == name,
                SourceEventRow.handled_at.is_(None),
                SourceEventRow.received_at <= due,
            )
            .limit(1)
        )
    return found is not None


def mark_events_handled(
    database: Database,
    connection_id: int,
    *,
    received_by: datetime,
    run_id: int | None,
    now: datetime,
) -> int:
    """Mark the pending events received up to ``received_by`` as covered by run ``run_id``;
    how many were."""
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


def unrecorded_charge_ids(
    database: Database, connection_id: int, received_by: datetime
) -> list[str]:
    """The charge ids named by pending events received up to ``received_by`` that the store
    holds no record of, in order."""
    with database.session() as session:
        pending = set(
            session.scalars(
                select(SourceEventRow.object_id).where(
                    SourceEventRow.connection_id == connection_id,
                    SourceEventRow.object == "charge",
                    SourceEventRow.handled_at.is_(None),
                    SourceEventRow.received_at <= received_by,
                )
            )
        )
        if not pending:
            return []
        stored = set(
            session.scalars(
                select(SourceRecord.source_id).where(
                    SourceRecord.connection_id == connection_id,
                    SourceRecord.kind == "charge",
                    SourceRecord.source_id.in_(sorted(pending)),
                )
            )
        )
    return sorted(pending - stored)
