"""The lease table: who holds a connection's sync lease, and the writes that take it.

Every write is a single atomic statement, in its own transaction, whose WHERE clause carries
what was read (compare-and-swap), so two contenders cannot both win on SQLite or PostgreSQL,
whatever the isolation level: ``INSERT ... ON CONFLICT DO NOTHING`` for a free connection, a
conditional ``UPDATE`` checked by the rows it returns for a takeover or a renewal, a
conditional ``DELETE`` for a release. When a lease is taken over or renewed is decided by
:mod:`core.sync.leases`; this module only keeps the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.store.database import Database
from core.store.models import Lease as LeaseRow

__all__ = [
    "Lease",
    "drop_lease",
    "extend_lease",
    "stored_lease",
    "take_free_lease",
    "take_over_lease",
]


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as held (or as last read): who, where, since when, until when."""

    connection_id: int
    holder: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        return f"process {self.pid} on {self.host} since {self.acquired_at:%Y-%m-%d %H:%M:%S %Z}"


def _read(connection: Connection, connection_id: int) -> Lease | None:
    columns = (
        LeaseRow.connection_id,
        LeaseRow.holder,
        LeaseRow.host,
        LeaseRow.pid,
        LeaseRow.acquired_at,
        LeaseRow.expires_at,
    )
    found = connection.execute(
        select(*columns).where(LeaseRow.connection_id == connection_id)
    ).first()
    return Lease(*found) if found is not None else None


def _changed(connection: Connection, statement: Any) -> bool:
    """Run a one-row write; whether it touched the row (RETURNING: drivers' rowcount varies)."""
    return len(connection.execute(statement).all()) == 1


def stored_lease(database: Database, connection_id: int) -> Lease | None:
    """The lease row of ``connection_id`` as stored now (possibly expired), or None."""
    with database.engine.connect() as connection:
        return _read(connection, connection_id)


def take_free_lease(database: Database, lease: Lease) -> bool:
    """Write ``lease`` if its connection has no lease row; whether it was written."""
    values = {
        "connection_id": lease.connection_id,
        "holder": lease.holder,
        "host": lease.host,
        "pid": lease.pid,
        "acquired_at": lease.acquired_at,
        "expires_at": lease.expires_at,
    }
    with database.engine.begin() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            insert: Any = postgresql.insert
        elif dialect == "sqlite":
            insert = sqlite.insert
        else:  # pragma: no cover - other databases are not supported stores
            raise NotImplementedError(f"leases on {dialect} are not supported")
        statement = insert(LeaseRow).values(**values).on_conflict_do_nothing()
        return _changed(connection, statement.returning(LeaseRow.connection_id))


def take_over_lease(database: Database, seen: Lease, lease: Lease) -> bool:
    """Replace ``seen`` by ``lease`` only if the row still is exactly what was read."""
    statement = (
        update(LeaseRow)
        .where(
            LeaseRow.connection_id == seen.connection_id,
            LeaseRow.holder == seen.holder,
            LeaseRow.host == seen.host,
            LeaseRow.pid == seen.pid,
            LeaseRow.expires_at == seen.expires_at,
        )
        .values(
            holder=lease.holder,
            host=lease.host,
            pid=lease.pid,
            acquired_at=lease.acquired_at,
            expires_at=lease.expires_at,
        )
    )
    with database.engine.begin() as connection:
        return _changed(connection, statement.returning(LeaseRow.connection_id))


def extend_lease(database: Database, connection_id: int, holder: str, expires_at: datetime) -> bool:
    """Move the expiry of ``holder``'s lease to ``expires_at``; False when it is not theirs."""
    statement = (
        update(LeaseRow)
        .where(LeaseRow.connection_id == connection_id, LeaseRow.holder == holder)
        .values(expires_at=expires_at)
    )
    with database.engine.begin() as connection:
        return _changed(connection, statement.returning(LeaseRow.connection_id))


def drop_lease(database: Database, connection_id: int, holder: str) -> bool:
    """Delete ``holder``'s lease row; False when it is not theirs (taken over or released)."""
    statement = delete(LeaseRow).where(
        LeaseRow.connection_id == connection_id, LeaseRow.holder == holder
    )
    with database.engine.begin() as connection:
        return _changed(connection, statement.returning(LeaseRow.connection_id))
