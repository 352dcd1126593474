"""The host: one store, one secret box, the plugins. What the CLI and schedulers drive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.contracts import ConnectionInfo, PluginContext
from core.plugins import Plugins, get_plugins
from core.secrets import SecretBox, key_file_for
from core.store.database import APP_NAME, Database, open_database
from core.store.repository import CallCounter, StoreCache, StoreVault

__all__ = ["Host"]


class Host:
    """Everything one process needs to run syncs against one store."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        plugins: Plugins | None = None,
        secret_key_file: Path | None = None,
    ) -> None:
        self.database: Database = open_database(db_url)
        self.plugins = plugins or get_plugins()
        self.key_file = secret_key_file or key_file_for(
            self.database.sqlite_path, Path(click.get_app_dir(APP_NAME))
        )
        self._box: SecretBox | None = None

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.from_environment(self.key_file)
        return self._box

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

    def close(self) -> None:
        self.database.dispose()
