"""Creating and updating connections: one source business <-> one destination organization."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.connections.failure import restore
from core.contracts import ConnectionInfo
from core.errors import ConfigurationError
from core.host import Host
from core.states import ConnectionStatus
from core.store.connection_records import (
    NAME_LENGTH,
    add_connection,
    connection_named,
    connection_names,
    organization_holder,
    source_account_holder,
)
from core.store.repository import connection_info, get_connection, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.models import Connection

__all__ = [
    "MAX_NAME_LENGTH",
    "attach_destination",
    "check_name",
    "check_timezone",
    "connect_source",
    "load_connection",
]

MAX_NAME_LENGTH: int = NAME_LENGTH  # the column


def check_name(session: Session, name: str) -> str:
    """``name`` if it can name a new connection: printable text the store can hold, not the
    same as an existing name but for case or Unicode form; else a ConfigurationError."""
    example = "Use letters, digits, '-' or '_', e.g. shop-sg."
    if not name.strip():
        raise ConfigurationError("a connection name cannot be empty.", example)
    if not name.isprintable() or name != name.strip():
        raise ConfigurationError(
            f"the connection name {name!r} has control characters or spaces at its ends.",
            example,
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ConfigurationError(
            f"the connection name is {len(name)} characters long; the store holds at most "
            f"{MAX_NAME_LENGTH}.",
            example,
        )
    folded = _folded(name)
    for other in connection_names(session):
        if _folded(other) == folded:
            raise ConfigurationError(
                f"the connection name {name!r} differs from the existing {other!r} only by "
                "case or the form of its characters; names must be told apart at a glance.",
                f"Use {other!r} to change that connection, or another name for a new one.",
            )
    return name


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone, else a ConfigurationError saying so."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"unknown time zone {name!r}.",
            "Use an IANA name such as Asia/Singapore or America/New_York.",
        ) from None
    return name


def load_connection(host: Host, name: str) -> ConnectionInfo:
    with host.database.session() as session:
        return connection_info(get_connection(session, name))


def _refuse_holder(holder: Connection | None, kind: str) -> None:
    if holder is not None:
        raise ConfigurationError(
            f"this {kind} is already connected as {holder.name!r}; one business connects "
            "to one organization.",
            f"Use `ledgersync disconnect {holder.name}` first, or reconnect that connection.",
        )


def connect_source(
    host: Host,
    name: str,
    *,
    source: str,
    source_account: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    timezone: str | None = None,
) -> ConnectionInfo:
    """Create connection ``name`` for a source business, or update its source side."""
    host.plugins.source(source)  # fails clearly when the plugin is missing
    with host.database.session() as session:
        connection = connection_named(session, name)
        if connection is not None and connection.source != source:
            raise ConfigurationError(
                f"connection {name!r} reads from {connection.source}, not {source}.",
                "Pick another name for the new connection.",
            )
        _refuse_holder(
            source_account_holder(session, source, source_account, name), f"{source} account"
        )
        if connection is None:
            connection = add_connection(
                session,
                name=check_name(session, name),
                source=source,
                created_at=utcnow(),
                timezone=check_timezone(timezone or "UTC"),
            )
        elif timezone:
            connection.timezone = check_timezone(timezone)
        connection.source_account = source_account
        connection.source_config = dict(config)
        was_failed = connection.status == ConnectionStatus.FAILED
        if connection.status == ConnectionStatus.DISCONNECTED:
            connection.status = (
                ConnectionStatus.ACTIVE if connection.destination_org else ConnectionStatus.NEW
            )
            connection.disconnected_at = None
        session.flush()
        connection_id = connection.id
    vault = host.vault(connection_id)
    for key, value in secrets.items():
        vault.set(key, value)
    if was_failed:
        restore(host, name)
    return load_connection(host, name)


def attach_destination(
    host: Host,
    name: str,
    *,
    destination: str,
    organization: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
) -> ConnectionInfo:
    """Point connection ``name`` at one destination organization (first or again)."""
    host.plugins.destination(destination)
    with host.database.session() as session:
        connection = get_connection(session, name)
        _refuse_holder(
            organization_holder(session, destination, organization, name),
            f"{destination} organization",
        )
        if connection.destination_org and connection.destination_org != organization:
            raise ConfigurationError(
                f"connection {name!r} writes to organization "
                f"{connection.destination_org}; it cannot switch to {organization}.",
                "Create a new connection for the other organization.",
            )
        connection.destination = destination
        connection.destination_org = organization
        connection.destination_config = dict(config)
        was_failed = connection.status == ConnectionStatus.FAILED
        if connection.status in (ConnectionStatus.NEW, ConnectionStatus.DISCONNECTED):
            connection.status = ConnectionStatus.ACTIVE
            connection.disconnected_at = None
        connection_id = connection.id
    vault = host.vault(connection_id)
    for key, value in secrets.items():
        vault.set(key, value)
    if was_failed:
        restore(host, name)
    return load_connection(host, name)
