"""Issue 17, done when: a Free-plan organization (1,000 Zoho calls a day, shared with its other
apps) back-fills a busy month in Individual mode. The work is larger than a day's share, so
the sync pauses at the share ("resumes at <time>: N documents left"), the scheduler resumes it
by itself at that time (nothing runs before it), day after day on the injected clock; at every
pause each charge is booked whole or not at all, no day spends more than ledgersync's share
(80%) or gets a single 429, and the last day leaves the books exact with nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.scheduling.runner import due_connections, run_due
from core.store.models import Connection
from reliability.reference import NOW
from reliability.system import (
    CONNECTION,
    ZONE,
    ChargeSpec,
    DataSet,
    RefundSpec,
    System,
    books_totals,
    expected_totals,
)

DAYS, PER_DAY = 30, 14  # a busy month: 420 sales, 30 of them partly refunded
OTHER_APPS = 300  # calls the organization's other apps spent before the back-fill
SHARE = 800  # 80% of the Free plan's 1,000
SLACK = 3  # a unit's look-ups may pass the share by a few calls


def busy_month(today: datetime) -> DataSet:
    first = datetime.combine(
        (today.astimezone(ZONE) - timedelta(days=DAYS + 1)).date(), datetime.min.time(), ZONE
    )
    charges, refunds = [], []
    for day in range(DAYS):
        for n in range(PER_DAY):
            at = first + timedelta(days=day, hours=9, minutes=47 * n)
            amount = Decimal(1000 + 137 * ((day * PER_DAY + n) % 41)) / 100
            charges.append(ChargeSpec(amount, "sgd", at, method="paynow" if n % 3 else "visa"))
            if n == 4:
                later = at + timedelta(hours=2)
                refunds.append(RefundSpec(len(charges) - 1, Decimal("5.00"), later))
    return DataSet(tuple(charges), tuple(refunds), since=first)


def half_booked(system: System) -> list[str]:
    """Charges (and refunds) with some of their documents in the books and not all."""
    references = {
        row["reference_number"]
        for section in ("invoices", "payments", "expenses", "credit_notes", "credit_refunds")
        for row in system.raw_books()[section]
    }
    problems = []
    for payload in system.hitpay.charges():
        stem = f"hitpay:charge:{payload['id']}"
        fee = Decimal(str(payload["fixed_fee"])) + Decimal(str(payload["discount_fee"]))
        kinds = ["invoice", "payment"] + (["expense"] if fee else [])
        booked = [f"{stem}:{kind}" in references for kind in kinds]
        if any(booked) and not all(booked):
            problems.append(f"{stem}: {dict(zip(kinds, booked, strict=True))}")
    notes = {r.rsplit(":", 1)[0] for r in references if r.endswith(":credit_note")}
    refunds = {r.rsplit(":", 1)[0] for r in references if r.endswith(":credit_refund")}
    problems.extend(sorted(notes ^ refunds))
    return problems


def test_a_free_plan_back_fill_paces_across_days_and_finishes_exact(
    fresh_db: Callable[[], str],
) -> None:
    with System(fresh_db(), start=NOW, mode="individual", plan="free") as system:
        system.connect(busy_month(NOW))
        organization = system.org.organization_id
        system.zoho.spend(organization, OTHER_APPS)
        report = system.sync()
        others, days, spent = OTHER_APPS, 0, []
        while report.outcome == "paused":
            days += 1
            spent.append(system.zoho.usage(organization) - others)
            assert report.error and "resumes at" in report.error, report.error
            assert f"{report.pending:,} documents left" in report.error, report.error
            assert system.zoho.usage(organization) <= 1000
            assert system.zoho.usage(organization) - others <= SHARE + SLACK
            assert not half_booked(system), half_booked(system)
            with system.host.database.session() as session:
                resume = session.scalar(
                    select(Connection.paused_until).where(Connection.name == CONNECTION)
                )
            assert resume is not None and resume > system.now()
            system.advance(resume - system.now() - timedelta(minutes=1))
            assert due_connections(system.host, system.now()) == []  # not before its time
            system.advance(timedelta(minutes=2))
            (run,) = run_due(system.host, system.now())  # the scheduler resumes it
            assert run.report is not None, run.error
            report, others = run.report, 0
            assert days < 10, "the back-fill does not progress"
        assert report.outcome == "succeeded" and not report.pending, report.error
        spent.append(system.zoho.usage(organization))
        print(f"ledgersync's Zoho calls per day: {spent}")  # shown with -s
        assert days >= 2, days  # about 1,900 calls: at most 700, then 800, then the rest
        assert 45 not in system.zoho.codes() and 44 not in system.zoho.codes()
        raw = system.raw_books()
        assert books_totals(raw, system.org.bank_account) == expected_totals(system)
        assert system.books().duplicates() == 0
