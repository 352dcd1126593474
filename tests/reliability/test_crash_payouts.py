"""Payout transfers and their adjustments survive a sync stopped dead at any payout request.

A small data set with payouts (one settling a charge from before the sync was enabled, one
carrying a refund and an administrative deduction) is synced once without interruption: the
reference. Then, for every request that reads payouts or writes a transfer or a journal, the
sync is stopped there (before the request is sent, or after Zoho committed it and the answer
was lost) and synced again until done: the books must equal the reference, transfers and
journals included, none of them twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.connections.settings import SettingsChange, change_settings
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, check_books
from reliability.system import CONNECTION, Books, System, small_data_set
from reliability.tally import tally

PAYOUT_REQUEST = ("/v1/payouts", "/banktransactions", "/journals")


def _prepare(system: System) -> None:
    data = small_data_set(NOW)
    assert data.since is not None
    system.hitpay.add_charge(amount=Decimal("33.00"), created_at=data.since - timedelta(hours=2))
    system.hitpay.add_charge(
        amount=Decimal("100.00"), created_at=data.since + timedelta(days=1, hours=14)
    )
    system.connect(data)
    payouts = system.hitpay.payouts
    first_day = (data.since + timedelta(days=1)).date()
    payouts.schedule(first_day, 1)
    payouts.adjust("sgd", Decimal("-3.00"), data.since + timedelta(days=1, hours=12))
    payouts.schedule(first_day + timedelta(days=1), 1)
    change_settings(
        system.host,
        CONNECTION,
        SettingsChange(
            payout_account=system.org.other_bank_account,
            adjustment_account=system.org.adjustment_account,
        ),
    )


def _payout_rows(system: System) -> list[tuple[Any, ...]]:
    raw = system.raw_books()
    rows: list[tuple[Any, ...]] = [
        (
            t["reference_number"],
            t["amount"],
            t["currency_code"],
            t["date"],
            t["from_account_id"],
            t["to_account_id"],
        )
        for t in raw.get("transfers", [])
    ]
    rows += [
        (
            j["reference_number"],
            j["status"],
            j["currency_code"],
            j["journal_date"],
            tuple(
                (line["account_id"], line["debit_or_credit"], line["amount"])
                for line in j["line_items"]
            ),
        )
        for j in raw.get("journals", [])
    ]
    return sorted(rows)


def _reference(db_url: str) -> tuple[list[tuple[str, str]], Books, list[tuple[Any, ...]]]:
    with System(db_url, start=NOW, mode="bulk") as system:
        _prepare(system)
        with CrashAt(None) as counting:
            report = system.sync()
        assert report.outcome == "succeeded" and not report.pending, report.error
        assert report.documents_delivered["transfer"] == 3  # two SGD payouts and one JPY
        assert report.documents_delivered["adjustment"] == 2
        assert system.sync().documents_planned.total() == 0
        return counting.sent, system.books(), _payout_rows(system)


@pytest.mark.parametrize("when", WHEN)
def test_a_sync_stopped_at_any_payout_request_is_finished_exactly(
    when: str, fresh_db: Callable[[], str]
) -> None:
    requests, books, payouts = _reference(fresh_db())
    points = [
        k
        for k, (_method, url) in enumerate(requests, start=1)
        if any(part in url for part in PAYOUT_REQUEST)
    ]
    assert len(points) >= 6, requests  # the listing, three transfers, two journals at least
    failures = []
    for k in points:
        with System(fresh_db(), start=NOW, mode="bulk") as system:
            _prepare(system)
            with CrashAt(k, when, system.zoho) as crash, pytest.raises(SimulatedCrash):
                system.sync()
            assert crash.fired is not None
            system.sync_until_done()
            problem = check_books(system, books)
            if _payout_rows(system) != payouts:
                problem += f"\n  payouts {_payout_rows(system)} != {payouts}"
            tally.crash_point(survived=not problem)
            if problem:
                failures.append(f"k={k} {requests[k - 1]}:\n{problem}")
    assert not failures, "\n".join(failures)
