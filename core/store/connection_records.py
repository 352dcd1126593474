"""Connection rows as the host's commands find and create them, in the caller's session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from core.store.models import Connection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["connections_by_name"]


def connections_by_name(session: Session) -> list[Connection]:
    """Every connection, in the order of their names."""
    return list(session.scalars(select(Connection).order_by(Connection.name)))
