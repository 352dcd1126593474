"""The books an uninterrupted sync of the small data set leaves: what every test compares to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reliability.crashes import CrashAt
from reliability.system import (
    ZONE,
    Books,
    System,
    books_totals,
    expected_totals,
    small_data_set,
)
from reliability.tally import tally

__all__ = ["MODES", "NOW", "Reference", "check_books", "run_reference"]

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=ZONE)
MODES = ("individual", "bulk")


@dataclass(frozen=True)
class Reference:
    """An uninterrupted sync: the requests it makes and the books it leaves."""

    mode: str
    requests: list[tuple[str, str]]
    books: Books


def run_reference(db_url: str, mode: str, start: datetime | None, anchor: datetime) -> Reference:
    with System(db_url, start=start, mode=mode) as system:
        system.connect(small_data_set(anchor))
        with CrashAt(None) as counting:
            report = system.sync()
        assert report.outcome == "succeeded" and not report.pending, report.error
        # The reference itself is checked against the source, independently of the mapper.
        raw = system.raw_books()
        assert books_totals(raw, system.org.bank_account) == expected_totals(system)
        kinds = {section: len(raw[section]) for section in ("invoices", "payments", "expenses")}
        expected_invoices = 3  # individual: one per charge; bulk: one per (day, currency)
        assert kinds == dict.fromkeys(kinds, expected_invoices), kinds
        assert len(raw["credit_notes"]) == len(raw["credit_refunds"]) == 1
        again = system.sync()
        assert again.outcome == "succeeded" and not sum(again.documents_delivered.values())
        books = system.books()
        assert books.duplicates() == 0
        return Reference(mode, counting.sent, books)


def check_books(system: System, expected: Books) -> str:
    """'' when the books are exactly the expected ones; else what differs. Tallied."""
    books = system.books()
    tally.books(duplicates=books.duplicates(), lost=books.missing_from(expected))
    return "" if books == expected else books.diff(expected)
