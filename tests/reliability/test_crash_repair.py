"""``verify --repair`` survives being stopped dead at any request: 0 duplicates, nothing lost.

The data set of the payout sweep is synced; then a bookkeeper deletes an invoice (with its
payment), an expense and a payout's transfer in Zoho Books. An uninterrupted repair is the
reference. Then, for every request the repair makes (the read-back listings, the deliveries,
their look-ups), it is stopped there (before the request is sent, or after Zoho committed it
and the answer was lost) and run again until it says everything is repaired: the books must
equal the reference, each lost document back exactly once under its new key.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.sync.repair import Repair, repair
from core.sync.verify import verify
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, check_books
from reliability.system import CONNECTION, Books, System
from reliability.tally import tally
from reliability.test_crash_payouts import _payout_rows, _prepare

Expected = tuple[Books, list[tuple[object, ...]]]


def _repaired_keys(system: System) -> list[str]:
    keys = system.books().references() + [row[0] for row in _payout_rows(system)]
    return sorted(key for key in keys if key.endswith(":r1"))


def _synced(system: System) -> list[str]:
    """Sync the payout data set, then delete what a bookkeeper might; the keys deleted."""
    _prepare(system)
    report = system.sync()
    assert report.outcome == "succeeded" and not report.pending, report.error
    with system.zoho.lock:
        books = system.zoho.organizations[system.org.organization_id]
        invoice = next(iter(books.invoices.values()))
        paid = [p for p in books.payments.values() if p.applied[0][0] == invoice.invoice_id]
        expense = next(iter(books.expenses.values()))
        transfer = next(iter(books.banktransactions.values()))
        for payment in paid:
            del books.payments[payment.payment_id]
        del books.invoices[invoice.invoice_id]
        del books.expenses[expense.expense_id]
        del books.banktransactions[transfer.transaction_id]
    lost = [invoice, *paid, expense, transfer]
    return sorted(str(d.reference_number) for d in lost)


def _repair(system: System) -> Repair:
    found = verify(system.host, CONNECTION)
    return repair(system.host, CONNECTION, found.findings, system.now())


def _reference(db_url: str) -> tuple[list[tuple[str, str]], Expected, list[str]]:
    with System(db_url, start=NOW, mode="bulk") as system:
        lost = _synced(system)
        with CrashAt(None) as counting:
            done = _repair(system)
        assert sorted(done.replanned) == lost and done.complete, done.lines()
        books = system.books()
        assert books.duplicates() == 0
        assert _repaired_keys(system) == [f"{key}:r1" for key in lost]
        payouts = _payout_rows(system)
        again = _repair(system)
        assert again.replanned == {} and system.books() == books
        assert _payout_rows(system) == payouts
        return counting.sent, (books, payouts), lost


@pytest.mark.parametrize("when", WHEN)
def test_a_repair_stopped_at_any_request_is_finished_exactly_once(
    when: str, fresh_db: Callable[[], str]
) -> None:
    requests, (books, payouts), lost = _reference(fresh_db())
    assert len(requests) >= 10, requests  # six listings, five deliveries at least
    failures = []
    for k in range(1, len(requests) + 1):
        with System(fresh_db(), start=NOW, mode="bulk") as system:
            assert _synced(system) == lost
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                _repair(system)
            assert crash.fired is not None
            for _ in range(3):
                if _repair(system).complete:
                    break
            problem = check_books(system, books)
            if _payout_rows(system) != payouts:
                problem += f"\n  payouts {_payout_rows(system)} != {payouts}"
            if system.books().duplicates():
                problem += f"\n  {system.books().duplicates()} duplicate(s)"
            tally.crash_point(survived=not problem)
            if problem:
                failures.append(f"k={k} {requests[k - 1]}:\n{problem}")
    assert not failures, "\n".join(failures)
