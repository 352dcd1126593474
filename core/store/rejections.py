"""Documents the destination rejected: their alert episodes and their way back to the outbox.

An episode of a rejection (alert kind ``document_rejected``) keeps in its message the
document's key first (``KEY: reason``), so the open episodes are found per document. The
documents themselves are the outbox rows in state ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.states import DocumentState
from core.store.models import Alert, DocumentRow

__all__ = [
    "failed_documents",
    "mark_rejections_told",
    "record_rejections",
    "rejection_key",
    "replan_failed",
]


def rejection_key(message: str) -> str:
    """The key of the document an episode's message names (its first part)."""
    return message.split(": ", 1)[0]


def _open_rejections(session: Session, connection_id: int, kind: str) -> dict[str, Alert]:
    rows = session.scalars(
        select(Alert)
        .where(
            Alert.connection_id == connection_id,
            Alert.kind == kind,
            Alert.resolved_at.is_(None),
        )
        .order_by(Alert.id)
    )
    return {rejection_key(alert.message): alert for alert in rows}


def record_rejections(
    session: Session,
    connection_id: int,
    kind: str,
    failed: Iterable[tuple[str, str]],
    now: datetime,
) -> list[tuple[int, str]]:
    """Open an episode of ``kind`` per ``(key, message)`` not already open with this message
    (one open with another message is resolved: a new episode), resolve the episodes of
    documents delivered since; the ``(id, message)`` of the episodes opened."""
    current = _open_rejections(session, connection_id, kind)
    opened: list[Alert] = []
    for key, message in failed:
        earlier = current.get(key)
        if earlier is not None and earlier.message == message:
            continue  # already told, for this reason
        if earlier is not None:
            earlier.resolved_at = now  # the reason changed: a new episode
        alert = Alert(connection_id=connection_id, kind=kind, message=message, opened_at=now)
        session.add(alert)
        current[key] = alert
        opened.append(alert)
    session.flush()
    # Delivered since (after a retry): the episode is over.
    if current:
        delivered = set(
            session.scalars(
                select(DocumentRow.key).where(
                    DocumentRow.connection_id == connection_id,
                    DocumentRow.key.in_(sorted(current)),
                    DocumentRow.state == DocumentState.DELIVERED,
                )
            )
        )
        for key in delivered:
            current[key].resolved_at = now
    return [(alert.id, alert.message) for alert in opened]


def mark_rejections_told(session: Session, alert_ids: Iterable[int], now: datetime) -> None:
    """Record that the notice of these episodes went out (those still stored)."""
    for alert_id in alert_ids:
        alert = session.get(Alert, alert_id)
        if alert is not None:
            alert.notified_at = now


def failed_documents(
    session: Session, connection_id: int, keys: Sequence[str] | None = None
) -> list[DocumentRow]:
    """The connection's failed documents (only ``keys`` when given), oldest first."""
    query = select(DocumentRow).where(
        DocumentRow.connection_id == connection_id, DocumentRow.state == DocumentState.FAILED
    )
    if keys is not None:
        query = query.where(DocumentRow.key.in_(sorted(set(keys))))
    return list(session.scalars(query.order_by(DocumentRow.id)))


def replan_failed(
    session: Session, connection_id: int, keys: Sequence[str] | None = None
) -> list[str]:
    """Put the failed documents (only ``keys`` when given) back to ``planned``; their keys.

    Only the state changes: the attempt count and the last reason stay on the row."""
    retried = []
    for row in failed_documents(session, connection_id, keys):
        row.state = DocumentState.PLANNED
        retried.append(row.key)
    return retried
