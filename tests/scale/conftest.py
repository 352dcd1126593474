"""Fixtures of the scale tests: a Redis broker and a store shared by several processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.databases import postgres_url, throwaway_postgres

REDIS_URL_VARIABLE = "LEDGERSYNC_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    """The Redis of LEDGERSYNC_TEST_REDIS_URL (default: the local one). Absent, the test is
    skipped, except in CI (CI=true), where it must be there."""
    pytest.importorskip("celery")
    from scale.cluster import redis_answers

    url = os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL
    if not redis_answers(url):
        message = f"no Redis answers at {url} (set {REDIS_URL_VARIABLE})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def shared_store(tmp_path: Path) -> Iterator[str]:
    """A store several processes share: a fresh PostgreSQL database when
    LEDGERSYNC_TEST_DATABASE_URL is set (the scale-out store), else a SQLite file."""
    if postgres_url():
        with throwaway_postgres() as url:
            yield url
        return
    yield f"sqlite:///{tmp_path / 'ledgersync.sqlite'}"
