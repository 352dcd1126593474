"""The per-connection lease: one sync at a time across processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.databases import add_connection, throwaway_postgres

from core.errors import SyncRefused
from core.store.database import Database, open_database
from core.sync import leases

HOLDER_SCRIPT = Path(__file__).resolve().parents[1] / "support" / "lease_holder.py"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def postgres_store() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[tuple[Database, str]]:
    url = db_url if request.param == "sqlite" else request.getfixturevalue("postgres_store")
    database = open_database(url)
    yield database, url
    database.dispose()


@pytest.fixture
def database(store: tuple[Database, str]) -> Database:
    return store[0]


@pytest.fixture
def connection_id(database: Database) -> int:
    return add_connection(database)


def expiry(database: Database, connection_id: int) -> datetime:
    lease = leases.current_lease(database, connection_id)
    assert lease is not None
    return lease.expires_at


class HolderProcess:
    """A real separate process holding (or failing to get) the lease."""

    def __init__(self, url: str, connection_id: int, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HOLDER_SCRIPT), url, str(connection_id), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def say(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()  # reaped: no zombie left to look alive

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


Spawn = Callable[..., HolderProcess]


@pytest.fixture
def spawn(store: tuple[Database, str]) -> Iterator[Spawn]:
    started: list[HolderProcess] = []

    def start(connection_id: int, *extra: str) -> HolderProcess:
        holder = HolderProcess(store[1], connection_id, *extra)
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.close()


# ----------------------------------------------------------------------------- in process


def test_second_caller_is_refused_while_the_lease_is_live(
    database: Database, connection_id: int
) -> None:
    clock = Clock()
    first = leases.acquire(database, connection_id, holder="a", ttl=TTL, clock=clock)
    assert first is not None
    assert first.holder == "a" and first.pid == os.getpid()
    assert first.expires_at == T0 + TTL
    clock.now = T0 + TTL - timedelta(seconds=1)
    assert leases.acquire(database, connection_id, holder="b", ttl=TTL, clock=clock) is None
    assert leases.current_lease(database, connection_id) == first


def test_leases_of_different_connections_are_independent(database: Database) -> None:
    one, two = add_connection(database), add_connection(database)
    assert leases.acquire(database, one, holder="a") is not None
    assert leases.acquire(database, two, holder="b") is not None


def test_release_frees_the_lease_and_only_its_holder_can_release(
    database: Database, connection_id: int
) -> None:
    assert leases.acquire(database, connection_id, holder="a") is not None
    assert not leases.release(database, connection_id, holder="b")
    assert leases.acquire(database, connection_id, holder="b") is None
    assert leases.release(database, connection_id, holder="a")
    assert leases.current_lease(database, connection_id) is None
    assert leases.acquire(database, connection_id, holder="b") is not None


def test_renewal_keeps_the_lease_past_its_first_expiry(
    database: Database, connection_id: int
) -> None:
    clock = Clock()
    leases.acquire(database, connection_id, holder="a", ttl=TTL, clock=clock, host="far")
    clock.now = T0 + timedelta(minutes=9)
    renewed = leases.renew(database, connection_id, holder="a", ttl=TTL, clock=clock)
    assert renewed is not None and renewed.expires_at == T0 + timedelta(minutes=19)
    clock.now = T0 + timedelta(minutes=15)
    assert leases.acquire(database, connection_id, holder="b", ttl=TTL, clock=clock) is None


def test_an_expired_lease_from_another_host_is_taken_over_only_after_expiry(
    database: Database, connection_id: int
) -> None:
    clock = Clock()
    remote = leases.acquire(
        database, connection_id, holder="remote", ttl=TTL, clock=clock, host="other-host", pid=1
    )
    assert remote is not None
    clock.now = T0 + TTL - timedelta(microseconds=1)
    assert leases.acquire(database, connection_id, holder="local", ttl=TTL, clock=clock) is None
    clock.now = T0 + TTL
    mine = leases.acquire(database, connection_id, holder="local", ttl=TTL, clock=clock)
    assert mine is not None and mine.holder == "local" and mine.acquired_at == T0 + TTL
    # The old holder finds out: it can neither renew nor release what it lost.
    assert leases.renew(database, connection_id, holder="remote", clock=clock) is None
    assert not leases.release(database, connection_id, holder="remote")
    assert leases.current_lease(database, connection_id) == mine


def test_a_live_process_on_this_host_keeps_its_lease_until_expiry(
    database: Database, connection_id: int
) -> None:
    clock = Clock()
    parent = os.getppid()  # alive, not us
    leases.acquire(database, connection_id, holder="a", ttl=TTL, clock=clock, pid=parent)
    clock.now = T0 + timedelta(minutes=5)
    assert leases.acquire(database, connection_id, holder="b", ttl=TTL, clock=clock) is None


def test_held_raises_a_refusal_naming_the_holder(database: Database, connection_id: int) -> None:
    with leases.held(database, connection_id, holder="a", name="shop") as lease:
        assert lease.holder == "a"
        refusal = r"sync of 'shop' is already running \(process"
        with (
            pytest.raises(SyncRefused, match=refusal),
            leases.held(database, connection_id, holder="b", name="shop"),
        ):
            pass  # pragma: no cover
    assert leases.current_lease(database, connection_id) is None


def test_contenders_for_an_expired_lease_get_exactly_one_winner(
    database: Database, connection_id: int
) -> None:
    stale = Clock(T0 - timedelta(hours=1))
    leases.acquire(database, connection_id, holder="old", ttl=TTL, clock=stale, host="gone")
    contenders = 8
    barrier = threading.Barrier(contenders)
    results: list[leases.Lease | None] = [None] * contenders

    def contend(index: int) -> None:
        barrier.wait()
        results[index] = leases.acquire(
            database, connection_id, holder=f"h{index}", ttl=TTL, clock=Clock(), host=f"m{index}"
        )

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [lease for lease in results if lease is not None]
    assert len(winners) == 1
    assert leases.current_lease(database, connection_id) == winners[0]


def test_the_keeper_renews_a_third_of_the_way_and_stops_a_sync_that_lost_its_lease(
    database: Database, connection_id: int
) -> None:
    clock = Clock()
    leases.acquire(database, connection_id, holder="a", ttl=TTL, clock=clock, host="far")
    keeper = leases.LeaseKeeper(database, connection_id, holder="a", ttl=TTL, clock=clock)
    clock.now = T0 + timedelta(minutes=3)
    keeper(3, 100)  # too soon: nothing written
    assert expiry(database, connection_id) == T0 + TTL
    clock.now = T0 + timedelta(minutes=4)
    keeper(4, 100)
    assert expiry(database, connection_id) == clock.now + TTL
    clock.now += TTL  # expired: another host takes it over
    assert leases.acquire(database, connection_id, holder="b", ttl=TTL, clock=clock) is not None
    with pytest.raises(leases.LeaseLost, match="taken over"):
        keeper()


# ----------------------------------------------------------------------------- processes


def test_two_processes_contend_and_one_is_refused(spawn: Spawn, connection_id: int) -> None:
    first = spawn(connection_id)
    assert first.line().startswith("acquired ")
    second = spawn(connection_id)
    assert second.line() == "busy"
    assert second.process.wait() == 0
    first.say("release")
    assert first.line() == "released"
    third = spawn(connection_id)
    assert third.line().startswith("acquired ")


def test_a_killed_holder_on_this_host_is_taken_over_at_once(
    spawn: Spawn, database: Database, connection_id: int
) -> None:
    holder = spawn(connection_id)
    assert holder.line().startswith("acquired ")
    assert leases.acquire(database, connection_id, holder="next") is None
    holder.kill()
    # No waiting for the 10-minute expiry: the holder's process is gone.
    taken = leases.acquire(database, connection_id, holder="next")
    assert taken is not None and taken.pid == os.getpid()
    successor = spawn(connection_id)
    assert successor.line() == "busy"


def test_processes_released_at_the_same_moment_get_exactly_one_winner(
    spawn: Spawn, connection_id: int
) -> None:
    holders = [spawn(connection_id, "--wait-go") for _ in range(4)]
    for holder in holders:
        assert holder.line() == "ready"
    for holder in holders:
        holder.say("go")
    answers = sorted(holder.line().split()[0] for holder in holders)
    assert answers == ["acquired", "busy", "busy", "busy"]
