"""A connection's failure episode on its row: marked failed (with why and since when), then
cleared when it is reconnected. The alert episode beside it is ``core.store.alert_episodes``'s.

Both write in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.states import ConnectionStatus
from core.store.models import Connection
from core.store.repository import get_connection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["note_connection_failed", "note_connection_restored"]


def note_connection_failed(
    session: Session, connection_id: int, reason: str, now: datetime
) -> Connection:
    """Mark the connection failed for ``reason``; an episode already open keeps its start."""
    row = session.get_one(Connection, connection_id)
    row.status = ConnectionStatus.FAILED
    row.failure_reason = reason
    row.failed_at = row.failed_at or now
    return row


def note_connection_restored(session: Session, name: str) -> tuple[Connection, str]:
    """Mark the connection called ``name`` active again; it and the reason it had failed."""
    connection = get_connection(session, name)
    reason = connection.failure_reason or "authorization failed"
    connection.status = ConnectionStatus.ACTIVE
    connection.failure_reason = None
    connection.failed_at = None
    return connection, reason
