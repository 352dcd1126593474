"""Stores for tests: connections inserted directly, and throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text

from core.store.database import Database
from core.store.models import Connection
from core.store.repository import utcnow

POSTGRES_URL_VARIABLE = "LEDGERSYNC_TEST_DATABASE_URL"
DATABASE_KINDS = ["sqlite", "postgresql"]  # every store test runs on both, or says it skipped


def add_connection(database: Database, name: str | None = None, **values: object) -> int:
    """A bare connection row (no plugins involved); returns its id."""
    with database.session() as session:
        fields: dict[str, object] = {
            "name": name or f"conn-{uuid.uuid4().hex[:10]}",
            "source": "memory",
            "destination": "memory",
            "created_at": utcnow(),
            "source_config": {},
            "source_state": {},
            "destination_config": {},
            "settings": {},
            "notify_emails": [],
        }
        row = Connection(**(fields | values))
        session.add(row)
        session.flush()
        return row.id


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


def require_postgres() -> str:
    """The PostgreSQL server URL, or a skip that says how to run the PostgreSQL variant (a
    failure in CI, which must run it)."""
    url = postgres_url()
    if url is None:
        message = (
            f"PostgreSQL variant not run: set {POSTGRES_URL_VARIABLE}="
            "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database on the server of LEDGERSYNC_TEST_DATABASE_URL, dropped after."""
    base = require_postgres()
    name = f"ledgersync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
