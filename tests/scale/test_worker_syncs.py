"""What a worker does with one job, through the real engine against the HitPay and Zoho Books
stand-ins, on SQLite and (when configured) PostgreSQL: a full sync in each mode ties out, a
second job for the same due time is a no-op, a held lease or a disabled connection is a
normal refusal, not an error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.connections.lifecycle import disable
from core.host import Host
from core.scheduling.workers.dispatch import FIRST_SYNC, run_due_sync
from core.store.models import Connection, Run
from core.store.repository import utcnow
from core.sync import leases
from core.sync.engine import SyncOptions, sync
from plugins.hitpay_source.testing.kit import HitPayStandInKit
from scale.fleet import Fleet, yesterday_noon

EXPECTED = {"bulk": 5, "individual": 8}  # documents for 2 charges with fees and 1 refund


@pytest.fixture
def fleet(any_host: Host, secret_key: str) -> Iterator[Fleet]:
    now = utcnow()
    with Fleet(2) as businesses:
        businesses.seed(yesterday_noon(now))
        businesses.connect(
            any_host, since=now - timedelta(days=2), now=now, modes=("bulk", "individual")
        )
        yield businesses


def _runs(host: Host, name: str) -> int:
    with host.database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Run)
                .join(Connection, Connection.id == Run.connection_id)
                .where(Connection.name == name)
            )
            or 0
        )


def _connection_id(host: Host, name: str) -> int:
    with host.database.session() as session:
        return session.scalars(select(Connection.id).where(Connection.name == name)).one()


def test_a_worker_sync_ties_out_in_each_mode_and_a_second_job_is_a_no_op(
    any_host: Host, fleet: Fleet
) -> None:
    since = utcnow() - timedelta(days=3)
    for name, mode in zip(fleet.names, ("bulk", "individual"), strict=True):
        outcome = run_due_sync(any_host, name, FIRST_SYNC)
        assert (outcome.outcome, outcome.reason) == ("succeeded", "")
        books = fleet.documents(name)
        assert len(books) == EXPECTED[mode]
        totals = HitPayStandInKit(fleet.hitpay[name]).expected_totals(since, utcnow())["SGD"]
        clearing = fleet.zoho(name).clearing_balance(name)
        assert clearing == {"SGD": totals.charges - totals.fees - totals.refunds}
        assert totals.refunds == Decimal("5.00")

        again = run_due_sync(any_host, name, FIRST_SYNC)
        assert again.outcome == "already_synced" and again.run_id is None
        assert _runs(any_host, name) == 1
        assert len(fleet.documents(name)) == EXPECTED[mode]


def test_a_later_due_time_syncs_again_and_creates_nothing_new(any_host: Host, fleet: Fleet) -> None:
    name = fleet.names[0]
    assert run_due_sync(any_host, name, FIRST_SYNC).outcome == "succeeded"
    assert run_due_sync(any_host, name, utcnow()).outcome == "succeeded"
    assert _runs(any_host, name) == 2
    assert len(fleet.documents(name)) == EXPECTED["bulk"]


def test_a_held_lease_is_a_refusal_and_nothing_runs(any_host: Host, fleet: Fleet) -> None:
    name = fleet.names[0]
    connection_id = _connection_id(any_host, name)
    other = leases.acquire(any_host.database, connection_id, holder="another-worker")
    assert other is not None
    outcome = run_due_sync(any_host, name, FIRST_SYNC)
    assert outcome.outcome == "refused" and "already running" in outcome.reason
    assert _runs(any_host, name) == 0
    leases.release(any_host.database, connection_id, holder="another-worker")
    assert run_due_sync(any_host, name, FIRST_SYNC).outcome == "succeeded"


def test_a_disabled_or_unknown_connection_is_not_an_error(any_host: Host, fleet: Fleet) -> None:
    disable(any_host, fleet.names[0])
    assert run_due_sync(any_host, fleet.names[0], FIRST_SYNC).outcome == "refused"
    unknown = run_due_sync(any_host, "no-such-shop", None)
    assert unknown.outcome == "not_started" and "no connection named" in unknown.reason


def test_a_manual_sync_since_the_due_time_counts_as_synced(any_host: Host, fleet: Fleet) -> None:
    name = fleet.names[1]
    due = utcnow()
    assert sync(any_host, name, SyncOptions(trigger="manual")).outcome == "succeeded"
    assert run_due_sync(any_host, name, due).outcome == "already_synced"
