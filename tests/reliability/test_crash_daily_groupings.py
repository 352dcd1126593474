"""``--fees daily`` and ``--payments daily`` are exactly once: a sync stopped at any request.

Individual mode with each grouping option: a sync of two closed days (two SGD sales and a JPY
sale on the first, an SGD sale and a refund of a first-day sale on the second) is stopped at
every request k, before it is sent or after the destination committed it and the answer was
lost; the next runs must leave the books of an uninterrupted run (same documents by reference,
amounts, dates, links, statuses; no duplicate; the same clearing balance). The uninterrupted
run itself is checked against HitPay's totals and the documents the option promises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, check_books
from reliability.system import (
    ZONE,
    Books,
    ChargeSpec,
    DataSet,
    RefundSpec,
    System,
    books_totals,
    expected_totals,
)
from reliability.tally import tally

# option -> (invoices, payments, expenses) the uninterrupted run leaves
OPTIONS = {
    "fees": ({"fees": "daily"}, (4, 4, 3)),  # expenses: day 1 SGD, day 1 JPY, day 2 SGD
    "payments": ({"payments": "daily"}, (4, 3, 4)),  # payments: the same three groups
}


def grouped_data_set(today: datetime) -> DataSet:
    day = datetime.combine(
        (today.astimezone(ZONE) - timedelta(days=3)).date(), datetime.min.time(), tzinfo=ZONE
    )
    charges = (
        ChargeSpec(Decimal("120.50"), "sgd", day + timedelta(hours=10)),
        ChargeSpec(Decimal("33.10"), "sgd", day + timedelta(hours=12), method="paynow"),
        ChargeSpec(Decimal("4800"), "jpy", day + timedelta(hours=15), channel="point_of_sale"),
        ChargeSpec(Decimal("15.00"), "sgd", day + timedelta(days=1, hours=9)),
    )
    refunds = (RefundSpec(1, Decimal("3.10"), day + timedelta(days=1, hours=11)),)
    return DataSet(charges, refunds, since=day)


def _system(db_url: str, option: str) -> System:
    return System(db_url, start=NOW, mode="individual", **OPTIONS[option][0])


@pytest.fixture(scope="module")
def grouped_references(
    fresh_db: Callable[[], str],
) -> dict[str, tuple[list[tuple[str, str]], Books]]:
    """Per option, the requests and the books of an uninterrupted sync."""
    found = {}
    for option, (_settings, counts) in OPTIONS.items():
        with _system(fresh_db(), option) as system:
            system.connect(grouped_data_set(NOW))
            with CrashAt(None) as counting:
                report = system.sync()
            assert report.outcome == "succeeded" and not report.pending, report.error
            raw = system.raw_books()
            assert books_totals(raw, system.org.bank_account) == expected_totals(system)
            made = tuple(len(raw[section]) for section in ("invoices", "payments", "expenses"))
            assert made == counts, (option, made)
            books = system.books()
            assert books.duplicates() == 0
            found[option] = (counting.sent, books)
    return found


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_grouped_sync_stopped_at_any_request_is_finished_exactly(
    option: str,
    when: str,
    grouped_references: dict[str, tuple[list[tuple[str, str]], Books]],
    fresh_db: Callable[[], str],
) -> None:
    requests, expected = grouped_references[option]
    failures = []
    for k, request in enumerate(requests, start=1):
        try:
            with _system(fresh_db(), option) as system:
                system.connect(grouped_data_set(NOW))
                with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                    system.sync()
                assert crash.fired is not None
                system.sync_until_done()
                problem = check_books(system, expected)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {request}:\n{problem}")
    assert not failures, "\n".join(failures)
