"""This store's side of the organization's claim (:mod:`core.sync.claims`), kept per
connection in the cache table: its claim id, made the first time it is asked for, and when
it last wrote its claim to the organization."""

from __future__ import annotations

import uuid
from datetime import datetime

from core.store.database import Database
from core.store.host_entries import host_entry, put_host_entry
from core.store.models import Connection

__all__ = [
    "CLAIM_ID_KEY",
    "WRITTEN_KEY",
    "claim_id",
    "claim_written_at",
    "claiming_connection",
    "note_claim_written",
]

CLAIM_ID_KEY = "host:claim_id"  # this connection's claim id in this store
WRITTEN_KEY = "host:claim_written_at"  # when this store last wrote its claim (the forecast)


def claim_id(database: Database, connection_id: int, now: datetime) -> str:
    """This store's claim id for the connection, made the first time it is asked for."""
    with database.session() as session:
        entry = host_entry(session, connection_id, CLAIM_ID_KEY)
        if entry is not None and isinstance(entry.value, str):
            return entry.value
        mine = str(uuid.uuid4())
        put_host_entry(session, connection_id, CLAIM_ID_KEY, mine, now)
        return mine


def claim_written_at(database: Database, connection_id: int) -> datetime | None:
    """When this store last wrote its claim to the connection's organization (None: never)."""
    with database.session() as session:
        entry = host_entry(session, connection_id, WRITTEN_KEY)
        return entry.updated_at if entry is not None else None


def note_claim_written(database: Database, connection_id: int, now: datetime) -> None:
    """This store wrote its claim to the organization ``now``."""
    with database.session() as session:
        put_host_entry(session, connection_id, WRITTEN_KEY, now.isoformat(), now)


def claiming_connection(database: Database, connection_id: int) -> tuple[str, str | None]:
    """The connection's name and the organization it writes to (None: not connected yet)."""
    with database.session() as session:
        row = session.get_one(Connection, connection_id)
        return row.name, row.destination_org
