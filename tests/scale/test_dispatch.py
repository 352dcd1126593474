"""Dispatch without Celery: due times, enqueueing once per due time, what a worker does with a
job, and the worker's settings. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event, select, update
from support.databases import add_connection

from core.errors import ConfigurationError
from core.host import Host
from core.scheduling.runner import FIRST_SYNC
from core.scheduling.workers.dispatch import DueSync, due_syncs, enqueue_due
from core.scheduling.workers.settings import DEFAULT_BROKER_URL, WorkerSettings
from core.store.models import Alert, Connection
from core.sync.engine import lease_ttl

if TYPE_CHECKING:
    from core.scheduling.workers.claims import RedisClaims

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 20:00 in Singapore


def _due_connection(host: Host, **values: object) -> str:
    name = f"shop-{uuid.uuid4().hex[:8]}"
    fields: dict[str, object] = {
        "enabled": True,
        "status": "active",
        "timezone": "Asia/Singapore",
        "sync_time": "02:00",
    }
    add_connection(host.database, name, **(fields | values))
    return name


def _row(host: Host, name: str) -> Connection:
    with host.database.session() as session:
        return session.scalars(select(Connection).where(Connection.name == name)).one()


def due_at(host: Host, name: str, now: datetime = NOW) -> datetime | None:
    found = [job.due_at for job in due_syncs(host, now) if job.name == name]
    return found[0] if found else None


# ----------------------------------------------------------------------------- due times


def test_a_connection_never_synced_is_due_since_its_first_sync(any_host: Host) -> None:
    name = _due_connection(any_host)
    assert due_at(any_host, name) == FIRST_SYNC


def test_a_synced_connection_is_due_at_its_next_daily_time(any_host: Host) -> None:
    yesterday_evening = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    name = _due_connection(any_host, last_sync_at=yesterday_evening)
    # 02:00 Singapore on the 24th is 18:00 UTC on the 23rd.
    assert due_at(any_host, name) == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert due_at(any_host, name, datetime(2026, 11, 23, 17, 59, tzinfo=UTC)) is None


def test_a_paused_connection_is_due_when_its_pause_ends(any_host: Host) -> None:
    resume = NOW - timedelta(minutes=5)
    name = _due_connection(any_host, last_sync_at=NOW - timedelta(hours=1), paused_until=resume)
    assert due_at(any_host, name) == resume
    assert due_at(any_host, name, resume - timedelta(seconds=1)) is None


def test_a_sync_committed_while_beat_reads_never_earns_a_future_due_time(any_host: Host) -> None:
    """The race of issue 12: beat finds a connection due, a worker's sync of it commits, and beat
    must not then read the row again and enqueue its *next* (future) occurrence, which the
    worker's already-synced check would not stop: the connection would sync twice."""
    name = _due_connection(any_host, last_sync_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    engine = any_host.database.engine
    synced_at = NOW - timedelta(minutes=1)
    committed: list[str] = []

    def a_worker_commits_its_sync(conn: object, cursor: object, statement: str, *_: object) -> None:
        if committed or "FROM connections" not in statement:
            return
        committed.append(statement)
        with engine.connect() as other:  # another process's transaction
            other.execute(
                update(Connection).where(Connection.name == name).values(last_sync_at=synced_at)
            )
            other.commit()

    event.listen(engine, "after_cursor_execute", a_worker_commits_its_sync)
    try:
        sent: list[DueSync] = []
        enqueue_due(any_host, NOW, claim=lambda ids: [True] * len(ids), send=sent.append)
    finally:
        event.remove(engine, "after_cursor_execute", a_worker_commits_its_sync)
    assert committed, "the interleaving was not reproduced"
    assert _row(any_host, name).last_sync_at == synced_at
    # The job is the due time beat saw (02:00 Singapore on the 24th), not the 25th's.
    assert [(job.name, job.due_at) for job in sent] == [
        (name, datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    ]
    assert all(job.due_at <= NOW for job in sent)
    # ... which the worker's check then ends as "already synced" (synced_at is after it).
    assert synced_at >= sent[0].due_at


def test_a_reconnected_connection_is_due_since_it_was_restored(any_host: Host) -> None:
    name = _due_connection(any_host, last_sync_at=NOW - timedelta(minutes=30))
    restored_at = NOW - timedelta(minutes=10)
    with any_host.database.session() as session:
        session.add(
            Alert(
                connection_id=_row(any_host, name).id,
                kind="connection_failed",
                opened_at=NOW - timedelta(minutes=20),
                resolved_at=restored_at,
                message="authorization revoked",
            )
        )
    assert due_at(any_host, name) == restored_at


def test_only_due_connections_are_listed_with_their_due_time(any_host: Host) -> None:
    due = _due_connection(any_host)
    _due_connection(any_host, last_sync_at=NOW - timedelta(minutes=1))  # synced: not due
    _due_connection(any_host, enabled=False)
    _due_connection(any_host, status="failed")
    assert due_syncs(any_host, NOW) == [DueSync(_row(any_host, due).id, due, FIRST_SYNC)]


# ----------------------------------------------------------------------------- enqueueing


@pytest.fixture
def claims(redis_url: str) -> Iterator[RedisClaims]:
    from core.scheduling.workers.claims import RedisClaims

    store = RedisClaims(redis_url, prefix=f"ledgersync-test-{uuid.uuid4().hex[:10]}:", ttl=60)
    yield store
    keys = list(store.client.scan_iter(match=f"{store.prefix}*"))
    if keys:
        store.client.delete(*keys)
    store.close()


def test_each_due_sync_is_enqueued_once_per_due_time(any_host: Host, claims: RedisClaims) -> None:
    names = [_due_connection(any_host) for _ in range(3)]
    sent: list[DueSync] = []
    first = enqueue_due(any_host, NOW, claim=claims.claim, send=sent.append)
    assert [job.name for job in first] == names
    for minutes in (1, 2, 30):
        assert (
            enqueue_due(
                any_host, NOW + timedelta(minutes=minutes), claim=claims.claim, send=sent.append
            )
            == []
        )
    # The first syncs; a day later it is due again, at a new due time: enqueued again.
    with any_host.database.session() as session:
        session.get_one(Connection, first[0].connection_id).last_sync_at = NOW
    later = NOW + timedelta(days=1)
    again = enqueue_due(any_host, later, claim=claims.claim, send=sent.append)
    assert [(job.name, job.due_at) for job in again] == [
        (names[0], datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    ]
    assert len(sent) == 4


def test_a_job_whose_send_failed_is_enqueued_by_the_next_beat(
    any_host: Host, claims: RedisClaims
) -> None:
    name = _due_connection(any_host)

    def broker_down(job: DueSync) -> None:
        raise ConnectionError("broker unreachable")

    with pytest.raises(ConnectionError):
        enqueue_due(any_host, NOW, claim=claims.claim, send=broker_down, release=claims.release)
    sent: list[DueSync] = []
    enqueue_due(any_host, NOW, claim=claims.claim, send=sent.append, release=claims.release)
    assert [job.name for job in sent] == [name]


def test_claims_expire_so_a_lost_job_is_enqueued_again(redis_url: str) -> None:
    from core.scheduling.workers.claims import RedisClaims

    store = RedisClaims(redis_url, prefix=f"ledgersync-test-{uuid.uuid4().hex[:10]}:", ttl=3600)
    try:
        assert store.claim(["7:x", "7:x", "8:y"]) == [True, False, True]
        assert 3590 <= store.client.ttl(f"{store.prefix}7:x") <= 3600
        assert "redis://" not in repr(store)
    finally:
        store.client.delete(f"{store.prefix}7:x", f"{store.prefix}8:y")
        store.close()


# ----------------------------------------------------------------------------- settings


def test_settings_default_to_the_local_redis_and_read_the_environment() -> None:
    assert WorkerSettings.from_environment({}) == WorkerSettings(claims_url=DEFAULT_BROKER_URL)
    settings = WorkerSettings.from_environment(
        {
            "LEDGERSYNC_BROKER_URL": "amqp://guest@mq//",
            "LEDGERSYNC_DB": "postgresql+psycopg://ledgersync@db/ledgersync",
            "LEDGERSYNC_BEAT_SECONDS": "30",
            "LEDGERSYNC_CLAIMS_URL": "redis://cache:6379/2",
        }
    )
    assert settings.broker_url == "amqp://guest@mq//"
    assert settings.db_url == "postgresql+psycopg://ledgersync@db/ledgersync"
    assert (settings.beat_seconds, settings.claims_url) == (30, "redis://cache:6379/2")


def test_a_broker_other_than_redis_needs_a_redis_for_claims() -> None:
    settings = WorkerSettings.from_environment({"LEDGERSYNC_BROKER_URL": "amqp://guest@mq//"})
    with pytest.raises(ConfigurationError, match="LEDGERSYNC_CLAIMS_URL"):
        settings.require_claims_url()


@pytest.mark.parametrize("raw", ["soon", "0", "-5"])
def test_settings_refuse_seconds_that_are_not_positive_whole_numbers(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=f"LEDGERSYNC_BEAT_SECONDS={raw!r}"):
        WorkerSettings.from_environment({"LEDGERSYNC_BEAT_SECONDS": raw})


def test_the_lease_ttl_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGERSYNC_LEASE_TTL_SECONDS", raising=False)
    assert lease_ttl() == timedelta(minutes=10)
    monkeypatch.setenv("LEDGERSYNC_LEASE_TTL_SECONDS", "2.5")
    assert lease_ttl() == timedelta(seconds=2.5)
    monkeypatch.setenv("LEDGERSYNC_LEASE_TTL_SECONDS", "ten")
    with pytest.raises(ConfigurationError, match="LEDGERSYNC_LEASE_TTL_SECONDS='ten'"):
        lease_ttl()
