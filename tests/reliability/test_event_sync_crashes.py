"""An event sync stopped dead at any request boundary: the next event syncs finish the books.

Webhook events are stored for every charge of the small data set, plus one about a charge
HitPay does not know (so the sync also looks one charge up by id). An Individual-mode event
sync is stopped at request k (before it is sent, or after the destination committed it and
the answer was lost); event syncs then run again until one succeeds with nothing left. The
books must equal an uninterrupted run's exactly, every event must end covered, and the unknown
charge must book nothing. ``LEDGERSYNC_RELIABILITY_FULL=1`` tries every request; by default
every third one, the first and the last.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from sqlalchemy import select

from core.events import SourceEvent, body_digest
from core.store.models import SourceEventRow
from core.sync.engine import SyncOptions, sync
from core.sync.events import store_event
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, Reference, check_books
from reliability.system import CONNECTION, System, small_data_set
from reliability.tally import tally

MODE = "individual"
UNKNOWN = "9f00aaaa-0000-4000-8000-00000000dead"


def _store_events(system: System) -> None:
    connection_id = 1
    for charge_id in [*system.charge_ids, UNKNOWN]:
        body = f'{{"id": "{charge_id}"}}'.encode()
        event = SourceEvent("charge", charge_id, "created", body_digest(body), {"id": charge_id})
        store_event(system.host.database, connection_id, event, system.now())


def _event_syncs_until_done(system: System, limit: int = 5) -> None:
    for _ in range(limit):
        report = sync(system.host, CONNECTION, SyncOptions(trigger="event", now=system.now()))
        if report.outcome == "succeeded" and not report.pending:
            return
    raise AssertionError(f"event syncs did not finish in {limit} runs")


def _points(count: int) -> list[int]:
    if os.environ.get("LEDGERSYNC_RELIABILITY_FULL"):
        return list(range(1, count + 1))
    return sorted({1, *range(3, count, 3), count})


def survive(db_url: str, k: int, when: str, reference: Reference) -> str:
    with System(db_url, start=NOW, mode=MODE) as system:
        system.connect(small_data_set(NOW))
        _store_events(system)
        with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
            sync(system.host, CONNECTION, SyncOptions(trigger="event", now=system.now()))
        assert crash.fired is not None
        _event_syncs_until_done(system)
        with system.host.database.session() as session:
            pending = session.scalars(
                select(SourceEventRow.object_id).where(SourceEventRow.handled_at.is_(None))
            ).all()
        assert not pending, f"events left pending: {pending}"
        return check_books(system, reference.books)


def _event_requests(db_url: str) -> list[tuple[str, str]]:
    with System(db_url, start=NOW, mode=MODE) as system:
        system.connect(small_data_set(NOW))
        _store_events(system)
        with CrashAt(None) as counting:
            report = sync(system.host, CONNECTION, SyncOptions(trigger="event", now=system.now()))
        assert report.outcome == "succeeded", report.error
        assert any(UNKNOWN in url for _, url in counting.sent), "the unknown charge was looked up"
        return counting.sent


@pytest.mark.parametrize("when", WHEN)
def test_an_event_sync_stopped_at_any_request_is_finished_exactly_by_the_next(
    when: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    reference = references[MODE]
    requests = _event_requests(fresh_db())
    failures = []
    for k in _points(len(requests)):
        try:
            problem = survive(fresh_db(), k, when, reference)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {requests[k - 1]}:\n{problem}")
    assert not failures, "\n".join(failures)
