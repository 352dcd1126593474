"""Connection rows as the schedulers look them up (the commands' lookups, which the reports
and the webhook route use too, are :mod:`core.store.connection_records`).

Rows returned from a function that opens its own session are detached (expunged): their
columns stay readable after the session ends. Functions that take a ``session`` read in the
caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from core.states import ConnectionStatus
from core.store.connection_records import connection_named
from core.store.models import Alert, Connection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.database import Database

__all__ = [
    "active_connection_names",
    "detached_connection_named",
    "enabled_connections",
    "restored_since_last_sync",
    "working_connections",
]


def detached_connection_named(database: Database, name: str) -> Connection | None:
    """The connection called ``name``, if there is one, detached from its session."""
    with database.session() as session:
        row = connection_named(session, name)
        if row is None:
            return None
        session.expunge(row)
    return row


def enabled_connections(database: Database) -> list[Connection]:
    """The enabled connections, detached."""
    with database.session() as session:
        rows = list(session.scalars(select(Connection).where(Connection.enabled.is_(True))))
        session.expunge_all()
    return rows


def working_connections(session: Session) -> list[Connection]:
    """The enabled, active connections, by id."""
    return list(
        session.scalars(
            select(Connection)
            .where(Connection.enabled.is_(True), Connection.status == ConnectionStatus.ACTIVE)
            .order_by(Connection.id)
        )
    )


def active_connection_names(database: Database) -> list[str]:
    """The names of the active connections."""
    with database.session() as session:
        return list(
            session.scalars(
                select(Connection.name).where(Connection.status == ConnectionStatus.ACTIVE)
            )
        )


def restored_since_last_sync(session: Session) -> dict[int, datetime]:
    """Connections whose failure was resolved (reconnected) after their last good sync, with
    when it was resolved (the latest, where there were several)."""
    restored = (
        select(Alert.connection_id, func.max(Alert.resolved_at))
        .join(Connection, Connection.id == Alert.connection_id)
        .where(
            Alert.kind == "connection_failed",
            Alert.resolved_at.is_not(None),
            or_(Connection.last_sync_at.is_(None), Alert.resolved_at > Connection.last_sync_at),
        )
        .group_by(Alert.connection_id)
    )
    return {connection_id: at for connection_id, at in session.execute(restored) if at is not None}
