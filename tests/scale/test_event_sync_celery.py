"""Event syncs on the Celery deployment, against a real Redis and real ``ledgersync worker``s.

The HitPay stand-in posts signed webhooks to a running ``ledgersync serve --workers``; the route
claims the connection's window in Redis once and sends ``ledgersync.event_sync`` with a
countdown; a worker runs it when the quiet window ends and books each charge once in the Zoho
Books stand-in. Beat enqueues an event sync that fell due without a job. The quiet window is a
few seconds (a connection setting); every wait polls the store or Redis with a deadline.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select as query

from core import clock
from core.connections.event_timing import set_event_timing
from core.connections.schedule import parse_sync_time
from core.host import Host
from core.plugins import get_plugins
from core.store.models import Connection, Run, SourceEventRow
from core.sync.engine import ABANDONED
from core.sync.leases import current_lease
from core.web import create_app
from plugins.hitpay_source.connecting import store_webhook_salt, webhook_url
from plugins.hitpay_source.testing.kit import HitPayStandInKit
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
from plugins.zoho_books.testing.standin import ZohoBooksStandIn

pytest.importorskip("celery")

from support.clock import clear_of
from support.web_server import served_in_thread

from scale.cluster import Cluster, wait_for
from tests.e2e.conftest import LEDGERSYNC, PER_MINUTE, TIMEZONE, ZOHO_ENV, Shop, local_midnight

SALT = "celery-salt-93b1"
QUIET_SECONDS = 4


@pytest.fixture
def shop(shared_store: str, secret_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    """Connection ``shop`` (Individual mode, taking webhooks) in a store the workers share."""
    clear_of(monkeypatch, [(TIMEZONE, parse_sync_time(None))])  # no daily sync falls due
    with (
        HitPayStandIn(timezone=TIMEZONE) as hitpay,
        ZohoBooksStandIn(per_minute=PER_MINUTE) as zoho,
    ):
        host = Host(shared_store, plugins=get_plugins())
        shop = Shop(
            name="shop",
            db_url=shared_store,
            host=host,
            hitpay=HitPayStandInKit(hitpay),
            zoho=ZohoBooksStandInKit(zoho),
        )
        now = clock.now()
        shop.connect(mode="individual")
        shop.enable(since=local_midnight(now, 2), now=now)
        store_webhook_salt(host, shop.name, SALT)
        set_event_timing(host.database, shop.name, quiet_seconds=QUIET_SECONDS)
        with host.database.session() as session:  # as if the daily sync had just run
            row = session.scalars(query(Connection).where(Connection.name == shop.name)).one()
            row.last_sync_at = now
        try:
            yield shop
        finally:
            host.close()


def _cluster(tmp_path: Path, redis_url: str, shop: Shop) -> Cluster:
    env = {**ZOHO_ENV, "LEDGERSYNC_DB": shop.db_url, "LEDGERSYNC_BEAT_SECONDS": "1"}
    return Cluster(tmp_path, redis_url, env)


@pytest.fixture
def serve_on_workers(cluster: Cluster, shop: Shop) -> Iterator[str]:
    """``ledgersync serve --workers`` as a real process on the cluster's broker; its base URL."""
    with serving(shop, cluster.env) as url:
        yield url


@contextmanager
def serving(shop: Shop, env: Mapping[str, str]) -> Iterator[str]:
    env = {**env, "LEDGERSYNC_WEB_PASSWORD": "operator:a long enough password"}
    argv = [str(LEDGERSYNC), "--db", shop.db_url, "serve", "--port", "0", "--workers"]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if "http://" not in line:
            process.kill()
            _, errors = process.communicate(timeout=10)
            raise AssertionError(f"ledgersync serve did not start: {line!r} {errors[-2000:]}")
        yield "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path, redis_url: str, shop: Shop) -> Iterator[Cluster]:
    with _cluster(tmp_path, redis_url, shop) as found:
        yield found


def event_claims(cluster: Cluster) -> list[str]:
    """The event-sync windows claimed in Redis (``event:<connection>:<due>``)."""
    keys = cluster.redis.keys(f"{cluster.prefix}due:event:*")
    return sorted(key.decode().removeprefix(f"{cluster.prefix}due:") for key in keys)


def held_event_jobs(cluster: Cluster) -> list[tuple[str, str]]:
    """``ledgersync.event_sync`` messages a worker holds until their countdown ends: (args, eta)."""
    jobs = []
    for value in cluster.redis.hvals(cluster.prefix + "unacked"):
        headers = json.loads(value)[0].get("headers", {})
        if headers.get("task") == "ledgersync.event_sync":
            jobs.append((str(headers.get("argsrepr")), str(headers.get("eta"))))
    return jobs


def event_runs(shop: Shop) -> list[Run]:
    with shop.host.database.session() as session:
        found = list(session.scalars(query(Run).where(Run.trigger == "event").order_by(Run.id)))
        session.expunge_all()
    return found


def finished_runs(shop: Shop) -> list[Run] | None:
    found = event_runs(shop)
    return found if found and all(run.finished_at for run in found) else None


def pending_events(shop: Shop) -> int:
    with shop.host.database.session() as session:
        rows = session.scalars(query(SourceEventRow).where(SourceEventRow.handled_at.is_(None)))
        return len(list(rows))


def invoices(shop: Shop) -> list[Decimal]:
    return sorted(Decimal(str(d["amount"])) for d in shop.books() if d["kind"] == "invoice")


def assert_each_once(shop: Shop) -> None:
    references = [str(d["reference_number"]) for d in shop.books()]
    assert len(references) == len(set(references)), references


def test_a_burst_through_serve_on_workers_makes_one_claim_and_one_worker_sync(
    shop: Shop, cluster: Cluster, serve_on_workers: str
) -> None:
    worker = cluster.worker("a")
    hitpay = shop.charges_api
    hitpay.webhooks.register(webhook_url(serve_on_workers, shop.name), SALT)

    first = [hitpay.add_charge(amount=Decimal("10.00") + n) for n in range(6)]
    claimed = event_claims(cluster)
    second = [hitpay.add_charge(amount=Decimal("20.00") + n) for n in range(6)]  # same window
    assert event_claims(cluster) == claimed and len(claimed) == 1, cluster.logs()
    assert all(d.status == 202 for d in hitpay.webhooks.deliveries), hitpay.webhooks.deliveries
    with shop.host.database.session() as session:
        opened = min(session.scalars(query(SourceEventRow.received_at)))
    window = opened + timedelta(seconds=QUIET_SECONDS)
    assert claimed[0].endswith(f":{window.isoformat()}"), (claimed, window)

    [run] = wait_for(
        lambda: finished_runs(shop), "the event sync ran", within=60, explain=cluster.logs
    )
    sold = sorted(Decimal(str(c["amount"])) for c in first + second)
    wait_for(
        lambda: invoices(shop) == sold, "every charge invoiced", within=30, explain=cluster.logs
    )

    assert run.outcome == "succeeded" and run.pid == worker.pid, cluster.logs()
    assert pending_events(shop) == 0
    assert_each_once(shop)

    # a second burst inside the interval: one job for the next window, nothing runs early
    later = hitpay.add_charge(amount=Decimal("99.00"))
    assert run.started_at is not None
    next_window = run.started_at + timedelta(minutes=15)  # the default interval
    windows = event_claims(cluster)
    assert len(windows) == 2 and windows[1 - windows.index(claimed[0])].endswith(
        f":{next_window.isoformat()}"
    ), (windows, next_window)
    [(_, eta)] = wait_for(
        lambda: [job for job in held_event_jobs(cluster) if next_window.isoformat() in job[0]],
        "a worker holds the next window's job until its countdown ends",
        within=30,
        explain=cluster.logs,
    )
    assert eta != "None"
    assert [r.id for r in event_runs(shop)] == [run.id]
    assert invoices(shop) == sold and later["id"]


def test_beat_enqueues_an_event_sync_that_fell_due_without_a_job(
    shop: Shop, cluster: Cluster
) -> None:
    # the web app without a listener: events are stored, nothing is enqueued
    with served_in_thread(create_app(shop.host, session_secret=b"x" * 32)) as base:
        hitpay = shop.charges_api
        hitpay.webhooks.register(webhook_url(base, shop.name), SALT)
        sales = [hitpay.add_charge(amount=Decimal("7.00") + n) for n in range(3)]
        assert pending_events(shop) == 3 and event_claims(cluster) == []

        worker = cluster.worker("a")
        cluster.beat()
        [run] = wait_for(
            lambda: finished_runs(shop),
            "beat's late event sync ran",
            within=60,
            explain=cluster.logs,
        )
        sold = sorted(Decimal(str(s["amount"])) for s in sales)
        wait_for(
            lambda: invoices(shop) == sold, "every charge invoiced", within=30, explain=cluster.logs
        )

    assert run.outcome == "succeeded" and run.pid == worker.pid, cluster.logs()
    assert len(event_claims(cluster)) == 1
    assert pending_events(shop) == 0
    assert_each_once(shop)
    with shop.host.database.session() as session:
        triggers = [r.trigger for r in session.scalars(query(Run))]
    assert triggers == ["event"]  # beat sent no daily sync: the daily time is not near


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_the_broker_away_the_route_still_accepts_and_beat_enqueues_later(
    shop: Shop, cluster: Cluster
) -> None:
    away = f"redis://127.0.0.1:{_closed_port()}/0"
    with serving(shop, cluster.env | {"LEDGERSYNC_BROKER_URL": away}) as url:
        hitpay = shop.charges_api
        hitpay.webhooks.register(webhook_url(url, shop.name), SALT)
        sale = hitpay.add_charge(amount=Decimal("12.34"))

    assert [d.status for d in hitpay.webhooks.deliveries] == [202]  # stored, not a 500
    assert pending_events(shop) == 1 and event_claims(cluster) == []

    worker = cluster.worker("a")  # the broker is back: beat enqueues the window that fell due
    cluster.beat()
    [run] = wait_for(
        lambda: finished_runs(shop), "beat's late event sync ran", within=60, explain=cluster.logs
    )
    assert run.outcome == "succeeded" and run.pid == worker.pid, cluster.logs()
    assert invoices(shop) == [Decimal(str(sale["amount"]))]
    assert_each_once(shop)


def test_a_worker_killed_mid_event_sync_is_taken_over_and_books_each_charge_once(
    shop: Shop, tmp_path: Path, redis_url: str
) -> None:
    """kill -9 of the worker whose event sync has a Zoho payment in flight: its message comes
    back (acknowledged late), a replacement takes the dead worker's lease over, closes the
    killed run as interrupted, finds the payment the dead worker sent and books the rest."""
    env = {
        **ZOHO_ENV,
        "LEDGERSYNC_DB": shop.db_url,
        "LEDGERSYNC_BEAT_SECONDS": "1",
        # longer than the quiet window's countdown, so the held message is not handed out a
        # second time before the kill: only acknowledging it late brings it back
        "LEDGERSYNC_VISIBILITY_TIMEOUT": str(2 * QUIET_SECONDS),
        # the default lease of 10 minutes: only taking over a dead holder recovers it in time
    }
    faults = shop.zoho_api.faults
    faults.hold(method="POST", path="customerpayments")  # the first payment stays in flight
    with Cluster(tmp_path, redis_url, env) as cluster, serving(shop, cluster.env) as url:
        victim = cluster.worker("a")
        hitpay = shop.charges_api
        hitpay.webhooks.register(webhook_url(url, shop.name), SALT)
        sales = [hitpay.add_charge(amount=Decimal("30.00") + n) for n in range(3)]
        [claim] = event_claims(cluster)
        try:
            assert faults.holding.acquire(timeout=90), cluster.logs()
            with shop.host.database.session() as session:
                connection_id = session.scalars(
                    query(Connection.id).where(Connection.name == shop.name)
                ).one()
            lease = current_lease(shop.host.database, connection_id)
            assert lease is not None and lease.pid == victim.pid, (lease, cluster.logs())
            cluster.kill(victim.pid)
        finally:
            faults.release()  # the dead worker's payment is created: the next run must find it
        replacement = cluster.worker("b")

        finished = wait_for(
            lambda: (runs := finished_runs(shop)) and len(runs) == 2 and runs,
            "the replacement finished the event sync",
            within=90,
            explain=cluster.logs,
        )
        sold = sorted(Decimal(str(s["amount"])) for s in sales)
        wait_for(
            lambda: invoices(shop) == sold, "every charge invoiced", within=30, explain=cluster.logs
        )
        claims = event_claims(cluster)

    killed, done = finished
    assert (killed.pid, killed.outcome, killed.error) == (victim.pid, "interrupted", ABANDONED)
    assert done.pid == replacement.pid and done.outcome == "succeeded", cluster.logs()
    assert killed.finished_at is not None and killed.finished_at <= done.started_at
    assert claims == [claim]  # one window, one claim: the same message came back
    assert pending_events(shop) == 0
    assert_each_once(shop)
    payments = [d for d in shop.books() if d["kind"] == "payment"]
    assert sorted(Decimal(str(d["amount"])) for d in payments) == sold
