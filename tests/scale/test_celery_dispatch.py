"""Two Celery workers on a real Redis broker sync 100 businesses: each exactly once per due
time, never two syncs of one connection at once, and none lost when a worker is killed
(``kill -9``) in the middle of a sync.

The businesses are HitPay and Zoho Books stand-ins in this process; the workers and beat are
subprocesses sharing the store (PostgreSQL when configured). Waits poll the store and the
broker with a deadline.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from core.connections.schedule import parse_sync_time
from core.host import Host
from core.store.models import Connection, Lease, Run
from core.sync.engine import ABANDONED
from core.sync.leases import current_lease

pytest.importorskip("celery")

from support.clock import clear_of

from scale.cluster import Cluster, wait_for
from scale.fleet import TIMEZONE, Fleet, yesterday_noon

BUSINESSES = 100
DOCUMENTS = {"bulk": 5, "individual": 8}  # per business: 2 charges (fees), 1 partial refund


def _runs(host: Host) -> dict[str, list[Run]]:
    with host.database.session() as session:
        rows = session.execute(
            select(Connection.name, Run).join(Run, Run.connection_id == Connection.id)
        ).all()
    runs: dict[str, list[Run]] = defaultdict(list)
    for name, run in rows:
        runs[name].append(run)
    for found in runs.values():
        found.sort(key=lambda run: run.started_at)
    return runs


def _succeeded(host: Host) -> Counter[str]:
    return Counter({n: sum(r.outcome == "succeeded" for r in rs) for n, rs in _runs(host).items()})


def runs_table(host: Host) -> str:
    """Every run, one line each: what a failing dispatch test shows beside the workers' logs."""
    lines = []
    for name, found in sorted(_runs(host).items()):
        for run in found:
            ended = f"{run.finished_at:%H:%M:%S.%f}" if run.finished_at else "(not finished)"
            lines.append(
                f"{name} run {run.id}: {run.trigger} {run.outcome} pid {run.pid}"
                f" {run.started_at:%H:%M:%S.%f}..{ended}"
            )
    return "\n".join(lines)


@contextmanager
def explained_on_failure(host: Host, cluster: Cluster) -> Iterator[None]:
    """Any failed assertion inside carries the runs and the last lines of every worker's log."""
    try:
        yield
    except AssertionError as failure:
        raise AssertionError(
            f"{failure}\n--- runs ---\n{runs_table(host)}\n{cluster.logs(60)}"
        ) from failure


def _quiet(host: Host, cluster: Cluster) -> bool:
    """No lease held, no run going on (but the killed one) and no sync message left."""
    with host.database.session() as session:
        leases = session.scalars(select(Lease.connection_id)).all()
        running = session.scalars(
            select(Run.id).where(Run.finished_at.is_(None), Run.pid.in_(cluster.live_pids()))
        ).all()
    return not leases and not running and not cluster.pending_syncs()


def _assert_no_overlap(runs: dict[str, list[Run]], killed_at: dict[int, datetime]) -> None:
    """Per connection, each run ended before the next began (a killed run ends at its kill)."""
    for name, found in runs.items():
        for earlier, later in pairwise(found):
            end = earlier.finished_at or killed_at[earlier.pid or 0]
            assert end <= later.started_at, f"{name}: runs {earlier.id} and {later.id} overlap"


def test_two_workers_sync_every_connection_once_per_due_time_and_survive_a_kill(
    tmp_path: Path,
    redis_url: str,
    shared_store: str,
    secret_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = Host(shared_store)
    # Round 1 expects one sync per connection: the fleet's daily sync time must not pass during
    # it (at 01:59:45 in Singapore every connection synced at once was due again at 02:00).
    now = clear_of(monkeypatch, [(TIMEZONE, parse_sync_time(None))])
    with Fleet(BUSINESSES) as fleet:
        fleet.seed(yesterday_noon(now))
        fleet.connect(host, since=now - timedelta(days=2), now=now, modes=("bulk", "individual"))
        victim = fleet.names[0]  # the lowest id: the first job beat sends
        with host.database.session() as session:
            victim_id = session.scalars(
                select(Connection.id).where(Connection.name == victim)
            ).one()
        fleet.hitpay[victim].slow_next(1, None)  # its first request is held until released

        env = {
            "LEDGERSYNC_DB": shared_store,
            "LEDGERSYNC_BEAT_SECONDS": "1",
            "LEDGERSYNC_CLAIM_SECONDS": "20",
            "LEDGERSYNC_VISIBILITY_TIMEOUT": "3",
            "LEDGERSYNC_LEASE_TTL_SECONDS": "5",
        }
        with (
            Cluster(tmp_path, redis_url, env) as cluster,
            explained_on_failure(host, cluster),
        ):
            workers = [cluster.worker("a"), cluster.worker("b")]
            cluster.beat()

            # -- a worker is killed in the middle of the victim's sync
            held = fleet.hitpay[victim].faults
            lease = wait_for(
                lambda: held.pending == 0 and current_lease(host.database, victim_id),
                "a worker's sync of the victim is waiting for its held request",
                within=60,
                explain=cluster.logs,
            )
            assert lease.pid in {w.pid for w in workers}
            killed_at = {lease.pid: cluster.kill(lease.pid)}
            fleet.hitpay[victim].release_slow()
            cluster.worker("c")  # what a supervisor does: start a replacement

            # -- round 1: every connection, never synced, is due once
            wait_for(
                lambda: len(+_succeeded(host)) == BUSINESSES,
                "every connection synced once",
                within=120,
                explain=cluster.logs,
            )
            wait_for(lambda: _quiet(host, cluster), "workers idle", within=60, explain=cluster.logs)
            runs = _runs(host)
            assert _succeeded(host) == Counter(dict.fromkeys(fleet.names, 1))
            _assert_no_overlap(runs, killed_at)
            killed, finished = runs[victim]
            # the killed run was closed as interrupted by the run that took its lease over
            assert (killed.pid, killed.outcome, killed.error) == (
                lease.pid,
                "interrupted",
                ABANDONED,
            )
            assert killed.finished_at is not None and killed.finished_at <= finished.started_at
            assert finished.pid != lease.pid and finished.started_at >= killed_at[lease.pid]
            for n, name in enumerate(fleet.names):
                references = [d["reference_number"] for d in fleet.documents(name)]
                assert (
                    len(references)
                    == len(set(references))
                    == DOCUMENTS[("bulk", "individual")[n % 2]]
                ), name

            # -- round 2: a day later every connection is due again, at its daily time
            with host.database.session() as session:
                for row in session.scalars(select(Connection)):
                    assert row.last_sync_at is not None
                    row.last_sync_at -= timedelta(days=1)
            wait_for(
                lambda: set(_succeeded(host).values()) == {2},
                "every connection synced a second time",
                within=120,
                explain=cluster.logs,
            )
            wait_for(lambda: _quiet(host, cluster), "workers idle", within=60, explain=cluster.logs)
            assert _succeeded(host) == Counter(dict.fromkeys(fleet.names, 2))
            _assert_no_overlap(_runs(host), killed_at)
            assert {r.trigger for rs in _runs(host).values() for r in rs} == {"worker"}
    host.close()
