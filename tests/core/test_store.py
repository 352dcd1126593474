"""The store: migrations from empty, no drift, exact money, aware times, secrets at rest."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import StatementError

from core import hookimpl
from core.connections.setup import connect_source
from core.errors import ConfigurationError, SecretKeyError
from core.hookspecs import Register
from core.host import Host
from core.store.database import Database, open_database
from core.store.models import Base, Connection, SourceRecord
from core.store.repository import utcnow

SECRET = "sk_live_this-must-never-be-stored-in-clear-7f3a"


def test_migrations_create_the_whole_schema_from_empty(any_db_url: str) -> None:
    database = open_database(any_db_url)
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert database.current_revision() == database.head_revision()


def test_models_and_migrations_do_not_drift(any_db_url: str) -> None:
    database = open_database(any_db_url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_is_harmless(any_db_url: str) -> None:
    open_database(any_db_url).upgrade()
    assert open_database(any_db_url).current_revision() is not None


def _connection(name: str = "shop") -> Connection:
    now = utcnow()
    return Connection(
        name=name,
        source="test",
        created_at=now,
        source_config={},
        source_state={},
        destination_config={},
        settings={},
        notify_emails=[],
    )


def test_money_round_trips_exactly_and_times_stay_aware(any_db_url: str) -> None:
    database = open_database(any_db_url)
    amount = Decimal("12345678901234.567")
    created = datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)
    with database.session() as session:
        connection = _connection()
        session.add(connection)
        session.flush()
        session.add(
            SourceRecord(
                connection_id=connection.id,
                kind="charge",
                source_id="c1",
                created_at=created,
                currency="KWD",
                amount=amount,
                payload={},
                fetched_at=utcnow(),
            )
        )
    with database.session() as session:
        record = session.scalars(select(SourceRecord)).one()
        assert record.amount == amount and isinstance(record.amount, Decimal)
        assert str(record.amount) == "12345678901234.567"
        assert record.created_at == created and record.created_at.tzinfo is not None


def test_naive_datetimes_and_float_money_are_refused(any_db_url: str) -> None:
    database = open_database(any_db_url)
    with pytest.raises(StatementError, match="naive") as naive, database.session() as session:
        connection = _connection()
        connection.created_at = datetime(2026, 1, 1)
        session.add(connection)
    assert isinstance(naive.value.orig, ValueError)
    with pytest.raises(StatementError, match="Decimal") as floats, database.session() as session:
        connection = _connection("c2")
        session.add(connection)
        session.flush()
        session.add(
            SourceRecord(
                connection_id=connection.id,
                kind="charge",
                source_id="c1",
                created_at=utcnow(),
                currency="SGD",
                amount=1.1,
                payload={},
                fetched_at=utcnow(),  # type: ignore[arg-type]
            )
        )
    assert isinstance(floats.value.orig, TypeError)


def _store_secret(host: Host) -> int:
    with host.database.session() as session:
        connection = _connection()
        session.add(connection)
        session.flush()
        connection_id = connection.id
    host.vault(connection_id).set("api_key", SECRET)
    return connection_id


def test_key_file_is_created_with_mode_0600(db_url: str, host: Host) -> None:
    _store_secret(host)
    assert host.key_file.exists()
    assert stat.S_IMODE(os.stat(host.key_file).st_mode) == 0o600
    assert host.key_file.parent == Path(db_url.removeprefix("sqlite:///")).parent


def test_stored_secret_is_not_in_the_database_files_bytes(db_url: str, host: Host) -> None:
    connection_id = _store_secret(host)
    assert host.vault(connection_id).get("api_key") == SECRET
    host.close()
    path = Path(db_url.removeprefix("sqlite:///"))
    with Database(db_url).engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert SECRET.encode() not in blob
    assert b"this-must-never" not in blob


def test_wrong_secret_key_is_a_clear_error_not_garbage(
    db_url: str, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = _store_secret(host)
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", Fernet.generate_key().decode())
    other = Host(db_url, plugins=host.plugins)
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        other.vault(connection_id).get("api_key")
    other.close()


def test_secret_key_from_the_environment_is_used(db_url: str, secret_key: str, host: Host) -> None:
    _store_secret(host)
    assert not host.key_file.exists()


def test_vault_repr_hides_values(any_host: Host) -> None:
    connection_id = _store_secret(any_host)
    assert SECRET not in repr(any_host.vault(connection_id))
    assert "hidden" in repr(any_host.box)


class _NamedSource:
    name = "test_source"


class _SourcePlugin:
    @hookimpl
    def register_sources(self, register: Register) -> None:
        register(_NamedSource)


def test_one_business_connects_once(any_host: Host) -> None:
    host = any_host
    host.plugins.register(_SourcePlugin(), name="test_source_plugin")
    connect_source(host, "a", source="test_source", source_account="biz-1", config={}, secrets={})
    with pytest.raises(ConfigurationError, match="already connected as 'a'"):
        connect_source(
            host, "b", source="test_source", source_account="biz-1", config={}, secrets={}
        )
