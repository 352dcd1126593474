"""The re-fetch check's use of the host's ingest: store what a fetch gave, count the rows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from core.records import Fetched, Quarantined
from core.store.models import SourceRecord
from core.store.repository import utcnow
from core.sync.ingest import store_items
from core.testing.store import ConformanceStore

__all__ = ["count_stored", "store_fetched"]


def store_fetched(store: ConformanceStore, items: Iterable[Fetched | Quarantined]) -> None:
    """Store ``items`` for the store's connection as a sync's ingest step does."""
    with store.database.session() as session:
        store_items(session, store.connection_id, items, utcnow())


def count_stored(store: ConformanceStore) -> int:
    """How many source records the connection has in the store."""
    with store.database.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.connection_id == store.connection_id)
        )
        return int(count or 0)
