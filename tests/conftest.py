"""Shared fixtures: a fresh store per test, a secret key, plugins without installed extras."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings

from core.host import Host
from core.plugins import Plugins, reset_plugins

settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

BUILT_INS = "mapping,hitpay,zoho_books,log,email,file_journal"


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads the user's data directory, real credentials or installed extras."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("LEDGERSYNC_DB", raising=False)
    monkeypatch.delenv("LEDGERSYNC_SECRET_KEY", raising=False)
    monkeypatch.delenv("LEDGERSYNC_DISABLE_PLUGINS", raising=False)
    monkeypatch.setenv("LEDGERSYNC_LOAD_PLUGINS", BUILT_INS)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file per test (the embedded default)."""
    return f"sqlite:///{tmp_path / 'ledgersync.sqlite'}"


def _database_kinds() -> list[str]:
    server = os.environ.get("LEDGERSYNC_TEST_DATABASE_URL")
    return ["sqlite", "postgresql"] if server else ["sqlite"]


@pytest.fixture(params=_database_kinds())
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The embedded SQLite file, and a fresh PostgreSQL database when
    LEDGERSYNC_TEST_DATABASE_URL names a server (each test gets its own database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledgersync.sqlite'}"
        return
    from sqlalchemy import create_engine, make_url, text

    server = make_url(os.environ["LEDGERSYNC_TEST_DATABASE_URL"])
    name = f"ledgersync_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def any_host(any_db_url: str, plugins: Plugins) -> Iterator[Host]:
    """A Host on every configured database kind."""
    h = Host(any_db_url, plugins=plugins)
    yield h
    h.close()


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", key)
    return key


@pytest.fixture
def plugins() -> Plugins:
    return Plugins()


@pytest.fixture
def host(db_url: str, plugins: Plugins) -> Iterator[Host]:
    h = Host(db_url, plugins=plugins)
    yield h
    h.close()
