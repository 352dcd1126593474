"""Opening the store: the embedded SQLite default or any SQLAlchemy URL, migrated on first use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.errors import StoreMissing
from core.store.locations import APP_NAME, default_store_path

__all__ = ["APP_NAME", "MIGRATIONS", "Database", "default_url", "open_database"]

MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    """``LEDGERSYNC_DB`` if set, else a SQLite file in the user's data directory."""
    configured = os.environ.get("LEDGERSYNC_DB")
    if configured:
        return configured
    return f"sqlite:///{default_store_path()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Database:
    """An engine, a session factory and the migration state of one store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # Pooled, not one connection per transaction: closing the last connection to a
            # WAL database checkpoints it with an fsync, which made every commit cost a disk
            # flush (benchmarks/bench_overhead.py: 5x the sync's time on a disk).
            self.engine = create_engine(url)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def sqlite_path(self) -> Path | None:
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        if self.engine.url.query.get("uri") == "true" and database.startswith("file:"):
            database = database.removeprefix("file:")  # SQLite's URI form (e.g. ?mode=ro)
            if database.startswith("//"):  # file://host/path: only an empty host is local
                database = database[database.find("/", 2) :]
        return Path(database)

    @property
    def location(self) -> str:
        """Where the store is, for people: the file, or the URL without its password."""
        path = self.sqlite_path
        return str(path) if path else self.engine.url.render_as_string(hide_password=True)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest revision."""
        if self.current_revision() != self.head_revision():
            command.upgrade(alembic_config(self.engine), "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None, *, upgrade: bool = True, create: bool = True) -> Database:
    """Open (and by default migrate) the store at ``url`` or the default location.

    With ``create=False`` (commands that only read or run) a store that does not exist yet is
    an error naming where it was looked for, never a new empty store."""
    database = Database(url or default_url())
    if not create:
        _require_existing(database)
    elif url is None and database.sqlite_path is not None:  # the default folder, not a typo's
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    if upgrade:
        database.upgrade()
    return database


def _require_existing(database: Database) -> None:
    path = database.sqlite_path
    if path is not None and not path.is_file():
        database.dispose()
        raise StoreMissing(f"no ledgersync store at {path}.")
    if path is None and database.current_revision() is None:
        database.dispose()
        raise StoreMissing(f"the database at {database.location} holds no ledgersync store.")
