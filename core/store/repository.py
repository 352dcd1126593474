"""Store access shared by the host and plugins: connections, credentials, cache, API usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.contracts import AccountSettings, ConnectionInfo
from core.errors import ConfigurationError
from core.secrets import SecretBox
from core.store.database import Database
from core.store.models import ApiUsage, CacheEntry, Connection, Credential
from core.store.quota import DailyQuota, write_quota

__all__ = [
    "CallCounter",
    "StoreCache",
    "StoreVault",
    "connection_info",
    "get_connection",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, from the host's one clock (:mod:`core.clock`)."""
    return clock.now()


def get_connection(session: Session, name: str) -> Connection:
    """The connection called ``name``, or a ConfigurationError that lists the known ones."""
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        known = ", ".join(session.scalars(select(Connection.name).order_by(Connection.name)))
        raise ConfigurationError(
            f"no connection named {name!r}" + (f" (known: {known})." if known else "."),
            "Create it with `ledgersync <source> connect NAME ...`; `ledgersync connections` "
            "lists them.",
        )
    return connection


def connection_info(connection: Connection) -> ConnectionInfo:
    settings = dict(connection.settings or {})
    extra = settings.pop("extra", {}) or {}
    return ConnectionInfo(
        id=connection.id,
        name=connection.name,
        source=connection.source,
        destination=connection.destination,
        timezone=ZoneInfo(connection.timezone),
        mode=connection.mode,
        channels=tuple(connection.channels) if connection.channels is not None else None,
        settings=AccountSettings(**settings, extra=extra),
        status=connection.status,
        enabled=connection.enabled,
        notify_emails=tuple(connection.notify_emails or ()),
    )


class StoreVault:
    """The Vault protocol over the credentials table: each value encrypted on its own."""

    def __init__(self, database: Database, box: SecretBox, connection_id: int) -> None:
        self._database = database
        self._box = box
        self._connection_id = connection_id

    def _row(self, session: Session, name: str) -> Credential | None:
        return session.scalar(
            select(Credential).where(
                Credential.connection_id == self._connection_id, Credential.name == name
            )
        )

    def get(self, name: str) -> str | None:
        with self._database.session() as session:
            row = self._row(session, name)
            return self._box.decrypt(row.ciphertext) if row else None

    def set(self, name: str, value: str) -> None:
        with self._database.session() as session:
            row = self._row(session, name)
            ciphertext = self._box.encrypt(value)
            if row is None:
                session.add(
                    Credential(
                        connection_id=self._connection_id,
                        name=name,
                        ciphertext=ciphertext,
                        updated_at=utcnow(),
                    )
                )
            else:
                row.ciphertext = ciphertext
                row.updated_at = utcnow()

    def delete(self, name: str) -> None:
        with self._database.session() as session:
            row = self._row(session, name)
            if row is not None:
                session.delete(row)

    def __repr__(self) -> str:
        return f"StoreVault(connection={self._connection_id}, <values hidden>)"


class StoreCache:
    """The KeyValueCache protocol over the cache_entries table (JSON values)."""

    def __init__(self, database: Database, connection_id: int) -> None:
        self._database = database
        self._connection_id = connection_id

    def _row(self, session: Session, name: str) -> CacheEntry | None:
        return session.scalar(
            select(CacheEntry).where(
                CacheEntry.connection_id == self._connection_id, CacheEntry.name == name
            )
        )

    def get(self, name: str) -> Any | None:
        with self._database.session() as session:
            row = self._row(session, name)
            return row.value if row else None

    def set(self, name: str, value: Any) -> None:
        with self._database.session() as session:
            row = self._row(session, name)
            if row is None:
                session.add(
                    CacheEntry(
                        connection_id=self._connection_id,
                        name=name,
                        value=value,
                        updated_at=utcnow(),
                    )
                )
            else:
                row.value = value
                row.updated_at = utcnow()


class CallCounter:
    """Counts API calls in memory for the run; :meth:`flush` adds them to the day's usage."""

    def __init__(self, side: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.side = side
        self.total = 0
        self._pending = 0
        self._clock = clock
        self.quota: DailyQuota | None = None  # the last one noted, not yet stored
        self.last_quota: DailyQuota | None = None  # the last one noted in this run

    def count(self, calls: int = 1) -> None:
        self.total += calls
        self._pending += calls

    def note_quota(self, limit: int, remaining: int, resets_at: datetime) -> None:
        """The daily quota the destination's last answer gave; :meth:`flush` stores it."""
        self.quota = self.last_quota = DailyQuota(limit, remaining, resets_at, self._clock())

    def flush(self, session: Session, connection_id: int) -> None:
        if self.quota is not None:
            write_quota(session, connection_id, self.quota)
            self.quota = None
        if not self._pending:
            return
        day: date = self._clock().date()
        usage = session.get(ApiUsage, (connection_id, self.side, day))
        if usage is None:
            session.add(
                ApiUsage(connection_id=connection_id, side=self.side, day=day, calls=self._pending)
            )
        else:
            usage.calls += self._pending
        self._pending = 0
