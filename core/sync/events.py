"""Webhook events in the store: each accepted once, pending until an event sync has polled.

An event is the same event when its connection, object, object id, change and body digest
are: a redelivery or a replay finds the row already there and stores nothing. Events never
become records here; they only say that the source has news (see :mod:`core.scheduling.events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.events import SourceEvent
from core.store.database import Database
from core.store.source_events import add_event, event_known, event_tally, mark_events_handled

__all__ = ["EventBacklog", "event_backlog", "mark_handled", "store_event"]


def store_event(database: Database, connection_id: int, event: SourceEvent, now: datetime) -> bool:
    """Store ``event`` unless it is stored already; True when it is new."""
    if event_known(database, connection_id, event):
        return False
    # False too when the same event, delivered twice at once, was stored by the other delivery.
    return add_event(database, connection_id, event, now)


@dataclass(frozen=True, slots=True)
class EventBacklog:
    """A connection's events: how many wait for an event sync, since when, and the last one."""

    pending: int
    first_pending_at: datetime | None
    last_received_at: datetime | None
    last_event: str | None


def event_backlog(database: Database, connection_id: int) -> EventBacklog:
    tally = event_tally(database, connection_id)
    last = tally.last
    return EventBacklog(
        pending=tally.pending,
        first_pending_at=tally.first_pending_at,
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
    return mark_events_handled(
        database, connection_id, received_by=received_by, run_id=run_id, now=now
    )
