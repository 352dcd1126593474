"""Skips and quarantine taken back, then the sync that books them stopped dead at any request.

``ledgersync backfill`` (a day skipped before sync was enabled) and ``ledgersync quarantine
--retry`` (a charge HitPay sent unreadable, fixed at the source) only prepare the store; the
sync after them writes. For every request k of that sync, stopped before it is sent or after
the destination committed it and the answer was lost, the syncs after it must leave the books
exactly as an uninterrupted run left them: nothing twice, nothing missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest

from core.connections.backfill import backfill
from core.sync.quarantine import retry_quarantined
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import MODES, NOW, check_books
from reliability.system import CONNECTION, System, small_data_set
from reliability.tally import tally

Make = Callable[[Callable[[], str], str], System]


def backfilled(fresh_db: Callable[[], str], mode: str) -> System:
    """The first of the two days was skipped (enabled a day late); `backfill` takes it back."""
    data = small_data_set(NOW)
    assert data.since is not None
    system = System(fresh_db(), start=NOW, mode=mode).__enter__()
    system.connect(dataclasses.replace(data, since=data.since + timedelta(days=1)))
    system.sync_until_done()
    backfill(system.host, CONNECTION, data.since.date(), data.since.date(), now=system.now())
    return system


def retried(fresh_db: Callable[[], str], mode: str) -> System:
    """A charge was quarantined (no readable amount), fixed at HitPay, and `--retry` asked."""
    data = small_data_set(NOW)
    assert data.since is not None
    system = System(fresh_db(), start=NOW, mode=mode).__enter__()
    system.connect(data)
    broken = system.hitpay.add_charge(
        amount="not-a-number", currency="sgd", created_at=data.since + timedelta(hours=12)
    )
    assert system.sync_until_done()[-1].quarantined
    entry = system.hitpay.ledger.find(broken["id"])
    assert entry is not None
    entry.payload["amount"] = "20.00"  # fixed at the source
    retry_quarantined(system.host, CONNECTION, now=system.now())
    return system


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("make", [backfilled, retried], ids=["backfill", "quarantine-retry"])
def test_the_sync_after_a_backfill_or_retry_stopped_at_any_request_books_exactly_once(
    make: Make, mode: str, when: str, fresh_db: Callable[[], str], full: bool
) -> None:
    """Every request in Bulk, and in Individual with LEDGERSYNC_RELIABILITY_FULL=1; by default
    Individual tries every third request, the first and the last (each kind of document among
    them)."""
    system = make(fresh_db, mode)
    try:
        with CrashAt(None) as counting:
            reports = system.sync_until_done()
        created = sum(sum(r.documents_delivered.values()) for r in reports)
        assert created, "nothing was taken back: the sweep would prove nothing"
        assert reports[-1].quarantined == 0
        expected = system.books()
        count = len(counting.sent)
    finally:
        system.__exit__(None, None, None)
    every = full or mode == "bulk"
    points = range(1, count + 1) if every else sorted({1, count, *range(2, count, 3)})
    failures = []
    for k in points:
        system = make(fresh_db, mode)
        try:
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                system.sync()
            system.sync_until_done()
            problem = check_books(system, expected)
        except AssertionError as error:
            problem = str(error)
        finally:
            system.__exit__(None, None, None)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {crash.fired}:\n{problem}")
    assert not failures, "\n".join(failures)
