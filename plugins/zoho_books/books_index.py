"""Which ledgersync keys an organization's books already hold (the host's adoption listing).

Every document ledgersync writes carries its key as ``reference_number``. Invoices and
expenses are listed for the date range (``date_start``/``date_end``, documented for both list
endpoints); payments, credit notes and their refunds all depend on an invoice, so the host looks
those up one by one only where their invoice is found. The date filter only narrows the
listing: rows are matched by reference here, so a filter Zoho ignored or read differently
would cost pages, never a missed document. Whether Zoho counts the end day is not documented
(zoho.list.date_range), so the listing asks up to the day after ``end``.
"""

from __future__ import annotations

from datetime import date, timedelta

from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.writing import EXPENSES, INVOICES

__all__ = ["keys_in_books"]


def keys_in_books(client: BooksClient, start: date, end: date) -> set[str]:
    """The reference numbers of the invoices and expenses dated ``start`` to ``end``."""
    after_end = end + timedelta(days=1)  # the end day counts whether date_end is inclusive or not
    window = {"date_start": start.isoformat(), "date_end": after_end.isoformat()}
    found: set[str] = set()
    for kind in (INVOICES, EXPENSES):
        for row in client.list_all(kind.path, kind.list_key, window):
            reference = row.get("reference_number")
            if reference:
                found.add(str(reference))
    return found
