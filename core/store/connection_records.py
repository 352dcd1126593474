"""Connection rows as the host's commands find and create them, in the caller's session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.store.models import Connection, Credential

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "NAME_LENGTH",
    "add_connection",
    "connection_named",
    "connection_names",
    "connections_by_name",
    "forget_credentials",
    "organization_holder",
    "source_account_holder",
]

NAME_LENGTH: int = getattr(Connection.__table__.c.name.type, "length", None) or 100  # the column


def connections_by_name(session: Session) -> list[Connection]:
    """Every connection, in the order of their names."""
    return list(session.scalars(select(Connection).order_by(Connection.name)))


def connection_names(session: Session) -> Iterable[str]:
    """The name of every connection, in no particular order."""
    return session.scalars(select(Connection.name))


def connection_named(session: Session, name: str) -> Connection | None:
    """The connection called ``name`` (None: there is none)."""
    return session.scalar(select(Connection).where(Connection.name == name))


def source_account_holder(
    session: Session, source: str, source_account: str, other_than: str
) -> Connection | None:
    """The connection, other than ``other_than``, that reads ``source_account`` of ``source``."""
    return session.scalar(
        select(Connection).where(
            Connection.source_account == source_account,
            (Connection.source == source) & (Connection.name != other_than),
        )
    )


def organization_holder(
    session: Session, destination: str, organization: str, other_than: str
) -> Connection | None:
    """The connection, other than ``other_than``, that writes to ``organization`` of
    ``destination``."""
    return session.scalar(
        select(Connection).where(
            Connection.destination_org == organization,
            (Connection.destination == destination) & (Connection.name != other_than),
        )
    )


def add_connection(
    session: Session, *, name: str, source: str, created_at: datetime, timezone: str
) -> Connection:
    """A new connection reading from ``source``, with empty configuration and state (added to
    the session, not flushed)."""
    connection = Connection(
        name=name,
        source=source,
        created_at=created_at,
        source_config={},
        source_state={},
        destination_config={},
        settings={},
        notify_emails=[],
        timezone=timezone,
    )
    session.add(connection)
    return connection


def forget_credentials(session: Session, connection_id: int) -> None:
    """Delete every credential the connection holds."""
    for credential in session.scalars(
        select(Credential).where(Credential.connection_id == connection_id)
    ):
        session.delete(credential)
