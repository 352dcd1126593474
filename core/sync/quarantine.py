"""The quarantine of one connection: payloads that could not become records, with reasons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.host import Host
from core.store.models import QuarantinedRecord
from core.store.repository import get_connection

__all__ = ["quarantined"]


def quarantined(host: Host, name: str) -> list[dict[str, Any]]:
    """Each unresolved quarantined record of ``name``: source id, kind, reason, first and
    last seen, newest first."""
    with host.database.session() as session:
        row = get_connection(session, name)
        records = session.scalars(
            select(QuarantinedRecord)
            .where(
                QuarantinedRecord.connection_id == row.id,
                QuarantinedRecord.resolved_at.is_(None),
            )
            .order_by(QuarantinedRecord.last_seen_at.desc(), QuarantinedRecord.id.desc())
        )
        return [
            {
                "source_id": record.source_id,
                "kind": record.kind,
                "reason": record.reason,
                "first_seen": record.first_seen_at,
                "last_seen": record.last_seen_at,
                "times_seen": record.times_seen,
            }
            for record in records
        ]
