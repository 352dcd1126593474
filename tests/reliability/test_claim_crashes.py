"""The organization's claim (``core/sync/claims.py``) written and stopped dead at any request.

Two writes carry it: a store's first sync creates the claim (before it delivers anything), and
``ledgersync claim NAME --take-over`` replaces a lost store's claim. For every request of each,
stopped before it is sent or after Zoho committed it and the answer was lost, the operator's
next step (sync again; run the take-over again) must leave one claim, held by the store that
asked, and the books exactly as an uninterrupted run left them: nothing twice, nothing missing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.connections.setup import load_connection
from core.contracts import ClaimKeeper
from core.sync.claims import claim_id
from plugins.zoho_books.claim import CLAIM_CONTACT
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, Reference, check_books
from reliability.system import CONNECTION, System, small_data_set
from reliability.tally import tally
from reliability.test_adoption_crashes import rebuild_store, take_over

MODE = "bulk"


def _claim_problem(system: System) -> str:
    """'' when the organization holds one claim contact and its claim is this store's."""
    org = system.zoho.organization(system.org.organization_id)
    named = [c for c in org.contacts.values() if c.contact_name == CLAIM_CONTACT]
    if len(named) != 1:
        return f"{len(named)} claim contacts"
    destination, _ = system.host.open_destination(CONNECTION)
    assert isinstance(destination, ClaimKeeper)
    held = destination.read_claim()
    connection = load_connection(system.host, CONNECTION)
    mine = claim_id(system.host.database, connection.id, system.now())
    return "" if held is not None and held.holder == mine else f"claim held by {held}"


def _claim_requests(sent: list[tuple[str, str]]) -> list[int]:
    """The 1-based numbers of the first sync's claim requests: its first two /contacts calls
    (read, create), made before anything is delivered."""
    numbers = [n for n, (_, url) in enumerate(sent, 1) if url.rstrip("/").endswith("/contacts")]
    return numbers[:2]


@pytest.mark.parametrize("when", WHEN)
def test_a_first_claim_stopped_at_any_request_leaves_one_claim_and_exact_books(
    when: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    expected = references[MODE].books
    with System(fresh_db(), start=NOW, mode=MODE) as counted:
        counted.connect(small_data_set(NOW))
        with CrashAt(None) as counting:
            counted.sync()
    points = _claim_requests(counting.sent)
    assert len(points) == 2, counting.sent
    failures = []
    for k in points:
        with System(fresh_db(), start=NOW, mode=MODE) as system:
            system.connect(small_data_set(NOW))
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                system.sync()
            assert crash.fired is not None and "/contacts" in crash.fired[1]
            system.sync_until_done()
            problem = check_books(system, expected) or _claim_problem(system)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {crash.fired}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("when", WHEN)
def test_a_take_over_stopped_at_any_request_is_finished_by_running_it_again(
    when: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    expected = references[MODE].books

    def rebuilt() -> System:
        system = System(fresh_db(), start=NOW, mode=MODE).__enter__()
        system.connect(small_data_set(NOW))
        system.sync_until_done()
        rebuild_store(system, fresh_db(), claim=False)  # the lost store's claim still there
        return system

    system = rebuilt()
    try:
        assert system.sync().outcome == "failed"  # the lost store's claim is fresh: refused
        with CrashAt(None) as counting:
            take_over(system)
        count = len(counting.sent)
    finally:
        system.__exit__(None, None, None)
    assert count >= 2, counting.sent  # read, write
    failures = []
    for k in range(1, count + 1):
        system = rebuilt()
        try:
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                take_over(system)
            take_over(system)  # the command failed: the operator runs it again
            reports = system.sync_until_done()
            created = sum(sum(r.documents_delivered.values()) for r in reports)
            problem = check_books(system, expected) or _claim_problem(system)
            problem = problem or (f"{created} documents created again" if created else "")
        finally:
            system.__exit__(None, None, None)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {crash.fired}: {problem}")
    assert not failures, "\n".join(failures)
