"""Alert episodes in the store: opened when a cause appears, resolved when it is gone, and
marked notified once their notice went out (``core.connections.alerts`` sends the notices).

The functions that take a ``session`` write in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.contracts import ConnectionInfo
from core.store.models import Alert, Connection
from core.store.repository import connection_info

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.database import Database

__all__ = [
    "mark_notified",
    "note_episode_notified",
    "open_alert",
    "open_alerts",
    "resolve_alerts",
    "unsent_episodes",
]


def open_alert(
    session: Session, connection_id: int, kind: str, message: str, now: datetime
) -> Alert | None:
    """Open an episode of ``kind`` for the connection; the new Alert, or None if one is open.

    An episode already open keeps its opening time; its message is brought up to date.
    """
    current = session.scalars(
        select(Alert)
        .where(
            Alert.connection_id == connection_id,
            Alert.kind == str(kind),
            Alert.resolved_at.is_(None),
        )
        .order_by(Alert.id)
    ).first()
    if current is not None:
        if current.message != message:
            current.message = message
        return None
    alert = Alert(connection_id=connection_id, kind=str(kind), message=message, opened_at=now)
    session.add(alert)
    session.flush()
    return alert


def resolve_alerts(
    session: Session, connection_id: int, kind: str | None, now: datetime
) -> list[Alert]:
    """Close the open episodes of ``kind`` (None: of every kind); returns those closed."""
    query = select(Alert).where(Alert.connection_id == connection_id, Alert.resolved_at.is_(None))
    if kind is not None:
        query = query.where(Alert.kind == str(kind))
    resolved = list(session.scalars(query.order_by(Alert.id)))
    for alert in resolved:
        alert.resolved_at = now
    return resolved


def open_alerts(session: Session, connection_id: int) -> list[Alert]:
    """The connection's open episodes, oldest first (for status)."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.connection_id == connection_id, Alert.resolved_at.is_(None))
            .order_by(Alert.id)
        )
    )


def mark_notified(alert: Alert, now: datetime) -> None:
    """Record that the episode's notice went out (call inside a session holding ``alert``)."""
    alert.notified_at = now


def note_episode_notified(database: Database, alert_id: int, now: datetime) -> None:
    """Record, in a transaction of its own, that episode ``alert_id``'s notice went out (an
    episode gone meanwhile is left alone)."""
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is not None:
            mark_notified(alert, now)


def unsent_episodes(
    database: Database, connection_id: int | None
) -> list[tuple[int, str, str, ConnectionInfo]]:
    """The open episodes whose notice never went out (of one connection, or of all), oldest
    first: each one's id, kind, message and connection."""
    query = select(Alert, Connection).join(Connection, Connection.id == Alert.connection_id)
    query = query.where(Alert.resolved_at.is_(None), Alert.notified_at.is_(None))
    if connection_id is not None:
        query = query.where(Alert.connection_id == connection_id)
    with database.session() as session:
        return [
            (alert.id, alert.kind, alert.message, connection_info(row))
            for alert, row in session.execute(query.order_by(Alert.id))
        ]
