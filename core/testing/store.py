"""A real store for plugins under test: one SQLite file, one connection, real vault and cache.

The suites build plugins the way the host does, with a :class:`~core.contracts.PluginContext`
backed by the store's own tables (encrypted credentials, cache entries, a call counter), so a
plugin that only works with a hand-made context fails here as it would in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select

from core.contracts import AccountSettings, ApiCallCounter, ConnectionInfo, PluginContext
from core.secrets import SecretBox
from core.store.database import Database, open_database
from core.store.models import Connection
from core.store.repository import (
    CallCounter,
    StoreCache,
    StoreVault,
    connection_info,
    utcnow,
)

__all__ = ["ConformanceStore"]


def _key(folder: Path) -> bytes:
    path = folder / "conformance.key"
    if not path.exists():
        path.write_bytes(Fernet.generate_key())
    return path.read_bytes()


def _settings_row(settings: AccountSettings) -> dict[str, Any]:
    row = asdict(settings)
    row["extra"] = dict(settings.extra)
    return row


class ConformanceStore:
    """A store in ``folder`` holding one connection, for one test (reopened if it exists).

    ``source`` and ``destination`` are the plugin names written on the connection;
    ``organization`` and ``account`` its remote identities.
    """

    def __init__(
        self,
        folder: Path,
        *,
        name: str = "conformance",
        source: str = "conformance",
        account: str = "conformance-business",
        destination: str | None = None,
        organization: str | None = None,
        timezone: str = "UTC",
        settings: AccountSettings | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.database: Database = open_database(f"sqlite:///{folder / 'conformance.sqlite'}")
        self.box = SecretBox(_key(folder))
        with self.database.session() as session:
            existing = session.scalar(select(Connection).where(Connection.name == name))
            if existing is not None:  # the same store opened again, as by a new process
                self.connection_id: int = existing.id
                return
            row = Connection(
                name=name,
                source=source,
                source_account=account,
                source_config={},
                source_state={},
                destination=destination,
                destination_org=organization,
                destination_config={},
                settings=_settings_row(settings or AccountSettings()),
                notify_emails=[],
                timezone=timezone,
                status="active",
                enabled=True,
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            self.connection_id = row.id

    def connection(self) -> ConnectionInfo:
        with self.database.session() as session:
            row = session.get(Connection, self.connection_id)
            assert row is not None
            return connection_info(row)

    def vault(self) -> StoreVault:
        return StoreVault(self.database, self.box, self.connection_id)

    def cache(self) -> StoreCache:
        return StoreCache(self.database, self.connection_id)

    def context(
        self,
        config: Mapping[str, Any],
        calls: ApiCallCounter | None = None,
        *,
        side: str = "destination",
    ) -> PluginContext:
        """What the host hands a plugin of this connection: config, vault, cache, counter."""
        return PluginContext(
            connection=self.connection(),
            config=dict(config),
            vault=self.vault(),
            cache=self.cache(),
            calls=calls if calls is not None else CallCounter(side),
        )

    def close(self) -> None:
        self.database.dispose()
