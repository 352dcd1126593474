"""The host: one store, one secret box, the plugins. What the CLI and schedulers drive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.contracts import ConnectionInfo, Destination, PluginContext, Source
from core.errors import ConfigurationError
from core.plugins import Plugins, get_plugins
from core.secrets import SecretBox, key_file_for
from core.store.database import Database, open_database
from core.store.locations import data_dir
from core.store.repository import (
    CallCounter,
    StoreCache,
    StoreVault,
    connection_info,
    get_connection,
)

__all__ = ["Host"]


class Host:
    """Everything one process needs to run syncs against one store."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        plugins: Plugins | None = None,
        secret_key_file: Path | None = None,
        create: bool = True,
    ) -> None:
        """``create=False`` (commands that read or run): a missing store or key file is an
        error naming where it was looked for, never a new one."""
        self.database: Database = open_database(db_url, create=create)
        self.plugins = plugins or get_plugins()
        self.key_file = secret_key_file or key_file_for(self.database.sqlite_path, data_dir())
        self.creates = create
        self._box: SecretBox | None = None

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.from_environment(self.key_file, create=self.creates)
        return self._box

    @property
    def secret_key_origin(self) -> str:
        """Which secret key this host uses (the variable or the key file), never the key."""
        return SecretBox.describe_origin(self.key_file)

    def vault(self, connection_id: int) -> StoreVault:
        return StoreVault(self.database, self.box, connection_id)

    def cache(self, connection_id: int) -> StoreCache:
        return StoreCache(self.database, connection_id)

    def plugin_context(
        self,
        connection: ConnectionInfo,
        config: dict[str, Any],
        calls: CallCounter,
    ) -> PluginContext:
        return PluginContext(
            connection=connection,
            config=config,
            vault=self.vault(connection.id),
            cache=self.cache(connection.id),
            calls=calls,
        )

    def open_source(self, name: str) -> tuple[Source, CallCounter]:
        """The source plugin of connection ``name``, built for it, and its call counter."""
        connection, config = self._connection_and_config(name, "source")
        calls = CallCounter("source")
        cls = self.plugins.source(connection.source)
        return cls(self.plugin_context(connection, config, calls)), calls

    def open_destination(self, name: str) -> tuple[Destination, CallCounter]:
        """The destination plugin of connection ``name``, built for it, and its call counter."""
        connection, config = self._connection_and_config(name, "destination")
        if not connection.destination:
            raise ConfigurationError(
                f"connection {name!r} has no destination yet.",
                f"Connect one with `ledgersync <destination> connect {name}` "
                f"(installed: {', '.join(sorted(self.plugins.catalog.destinations)) or 'none'}).",
            )
        calls = CallCounter("destination")
        cls = self.plugins.destination(connection.destination)
        return cls(self.plugin_context(connection, config, calls)), calls

    def destination_config(self, name: str) -> dict[str, Any]:
        """Connection ``name``'s stored destination settings (its secrets are in the vault)."""
        return self._connection_and_config(name, "destination")[1]

    def record_calls(self, calls: CallCounter, connection_id: int) -> None:
        """Add ``calls`` to the connection's API usage of the day, with the quota it noted."""
        with self.database.session() as session:
            calls.flush(session, connection_id)

    def _connection_and_config(self, name: str, side: str) -> tuple[ConnectionInfo, dict[str, Any]]:
        with self.database.session() as session:
            row = get_connection(session, name)
            config = dict(row.source_config if side == "source" else row.destination_config)
            return connection_info(row), config

    def close(self) -> None:
        self.database.dispose()
