"""A rebuilt store's adoption sync stopped dead at any request: nothing is ever created twice.

The store of a fully synced connection is lost (a new store file, both sides connected again
to the same organization, enabled with the same start). Its first sync adopts what is in the
books (``core/sync/adoption.py``): it lists the keys there, looks those documents up and binds
them. For every k, that sync is stopped at request k, before it is sent or after the
destination committed it and the answer was lost; the syncs after it must leave the books
exactly as an uninterrupted run left them: nothing duplicated, nothing missing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.connections.setup import load_connection
from core.host import Host
from core.sync.claims import claim_organization
from plugins.zoho_books.testing.standin.listing import DATE_FILTERS, DEFAULT_DATE_FILTER
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import MODES, NOW, Reference, check_books
from reliability.system import CONNECTION, System, small_data_set
from reliability.tally import tally


def rebuild_store(system: System, db_url: str, *, claim: bool = True) -> None:
    """As an operator whose store file was lost: a new store, both sides reconnected to the
    same business and organization, the same settings, enabled with the same start, and (with
    ``claim``) the lost store's claim on the organization taken over."""
    plugins = system.host.plugins
    system.host.close()
    system.host = Host(db_url, plugins=plugins)
    system._stack.callback(system.host.close)
    system.connect_source()
    system.connect_destination(reconnect=True)
    org = system.org
    change_settings(
        system.host,
        CONNECTION,
        SettingsChange(
            sales_account=org.sales_account,
            fee_account=org.fee_account,
            refund_account=org.refund_account,
            bank_account=org.bank_account,
            item=org.item,
            mode=system.mode,
        ),
    )
    since = small_data_set(NOW).since
    assert since is not None
    enable(system.host, CONNECTION, since=since, now=system.now())
    if claim:
        take_over(system)


def take_over(system: System) -> None:
    """`ledgersync claim NAME --take-over`: the operator confirmed the lost store is gone."""
    destination, _ = system.host.open_destination(CONNECTION)
    connection = load_connection(system.host, CONNECTION)
    claim_organization(
        system.host.database, connection.id, destination, system.now(), take_over=True
    )


def synced_then_lost(
    fresh_db: Callable[[], str], mode: str, date_filter: str = DEFAULT_DATE_FILTER
) -> System:
    system = System(fresh_db(), start=NOW, mode=mode, date_filter=date_filter).__enter__()
    system.connect(small_data_set(NOW))
    system.sync_until_done()
    rebuild_store(system, fresh_db())
    return system


def adoption_requests(
    fresh_db: Callable[[], str],
    mode: str,
    expected: Reference,
    date_filter: str = DEFAULT_DATE_FILTER,
) -> list[tuple[str, str]]:
    """(method, url) of every request of an uninterrupted adoption sync, checked."""
    system = synced_then_lost(fresh_db, mode, date_filter)
    try:
        with CrashAt(None) as counting:
            report = system.sync()
        assert report.outcome == "succeeded", report.error
        assert not sum(report.documents_delivered.values()), "the rebuilt store created again"
        assert sum(report.adopted.values()) == len(expected.books.references())
        assert check_books(system, expected.books) == ""
        return counting.sent
    finally:
        system.__exit__(None, None, None)


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("mode", MODES)
def test_an_adoption_sync_stopped_at_any_request_creates_nothing_twice(
    mode: str, when: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    reference = references[mode]
    count = len(adoption_requests(fresh_db, mode, reference))
    failures = []
    for k in range(1, count + 1):
        system = synced_then_lost(fresh_db, mode)
        try:
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                system.sync()
            assert crash.fired is not None
            system.sync_until_done()
            problem = check_books(system, reference.books)
        except AssertionError as error:
            problem = str(error)
        finally:
            system.__exit__(None, None, None)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {crash.fired}:\n{problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.vendor_fact("zoho.list.date_range")
@pytest.mark.parametrize("date_filter", DATE_FILTERS)
def test_an_adoption_listing_lost_creates_nothing_twice_whatever_the_date_filter(
    date_filter: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    """One cheap scenario per reading of ``date_start``/``date_end`` (end day counted, not
    counted, range ignored): an uninterrupted adoption adopts everything, and one stopped
    right after Zoho answered its first date-bounded listing (the answer lost) creates nothing
    twice."""
    reference = references["individual"]
    sent = adoption_requests(fresh_db, "individual", reference, date_filter)
    k = 1 + next(n for n, (method, url) in enumerate(sent) if url.endswith("/books/v3/invoices"))
    system = synced_then_lost(fresh_db, "individual", date_filter)
    try:
        with CrashAt(k, "after_commit", system.zoho) as crash, pytest.raises(SimulatedCrash):
            system.sync()
        assert crash.fired is not None and crash.fired[0] == "GET"
        system.sync_until_done()
        problem = check_books(system, reference.books)
    finally:
        system.__exit__(None, None, None)
    tally.crash_point(survived=not problem)
    assert problem == ""
