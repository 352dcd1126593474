"""The host's own entries in the cache table (``host:...`` names), one per connection and name,
each stamped with when it was last written."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.store.models import CacheEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["append_to_host_entry", "host_entry", "host_entry_value", "put_host_entry"]


def host_entry(session: Session, connection_id: int, name: str) -> CacheEntry | None:
    """The connection's entry called ``name``, if written."""
    return session.scalar(
        select(CacheEntry).where(CacheEntry.connection_id == connection_id, CacheEntry.name == name)
    )


def host_entry_value(session: Session, connection_id: int, name: str) -> Any:
    """The value of the connection's entry called ``name`` (None if not written)."""
    return session.scalar(
        select(CacheEntry.value).where(
            CacheEntry.connection_id == connection_id, CacheEntry.name == name
        )
    )


def put_host_entry(
    session: Session, connection_id: int, name: str, value: Any, now: datetime
) -> None:
    """Write the connection's entry called ``name`` (made or replaced), stamped ``now``."""
    entry = host_entry(session, connection_id, name)
    if entry is None:
        session.add(CacheEntry(connection_id=connection_id, name=name, value=value, updated_at=now))
    else:
        entry.value, entry.updated_at = value, now


def append_to_host_entry(
    session: Session, connection_id: int, name: str, item: Any, now: datetime
) -> None:
    """Add ``item`` at the end of the list kept in the connection's entry called ``name``
    (made with ``item`` alone if not written), stamped ``now``."""
    entry = host_entry(session, connection_id, name)
    if entry is None:
        session.add(
            CacheEntry(connection_id=connection_id, name=name, value=[item], updated_at=now)
        )
    else:
        entry.value, entry.updated_at = [*(entry.value or []), item], now
