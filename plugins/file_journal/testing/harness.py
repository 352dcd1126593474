"""The file journal's conformance harness: how :mod:`core.testing` drives this plugin.

A lost response is a crash right after an entry reached the disk (the ``after_write`` seam).
What the journal holds is read with the beancount library's own parser (the ``test`` extra)
and with the standard csv module, never with the plugin's scanner, so the plugin cannot grade
itself.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from core.api import AccountSettings, ApiCallCounter, DeliveryUncertain, DocumentKind
from core.testing import ConformanceStore, DestinationHarness
from plugins.file_journal.destination import FileJournal
from plugins.file_journal.entries import JournalEntry

SUFFIXES = {"beancount": "beancount", "csv": "csv"}


def read_beancount(path: Path) -> list[str]:
    """Keys of the transactions in a Beancount file; fails on any Beancount error."""
    from beancount import loader

    entries, errors, _options = loader.load_file(str(path))
    assert not errors, [error.message for error in errors]
    return [entry.meta["ledgersync_key"] for entry in entries if "ledgersync_key" in entry.meta]


def read_csv(path: Path) -> list[str]:
    """Keys of the entries in a CSV journal (one per first line)."""
    with path.open(newline="") as handle:
        return [row["reference"] for row in csv.DictReader(handle) if row["line"] == "1"]


class JournalHarness(DestinationHarness):
    plugin: type[FileJournal] = FileJournal

    def __init__(self, folder: Path, journal_format: str) -> None:
        self.format = journal_format
        self.books = folder / "books"
        self.books.mkdir(parents=True)
        self.path = self.books / f"journal.{SUFFIXES[journal_format]}"
        self.store = ConformanceStore(
            folder / "store", destination="file_journal", organization=str(self.path)
        )
        self._lose_next: DocumentKind | None = None

    def build(self, calls: ApiCallCounter) -> FileJournal:
        context = self.store.context({"path": str(self.path), "format": self.format}, calls)
        journal = self.plugin(context)
        journal.after_write = self._after_write
        return journal

    def _after_write(self, entry: JournalEntry) -> None:
        if self._lose_next is entry.kind:
            self._lose_next = None
            raise DeliveryUncertain("simulated crash after the entry reached the disk")

    def settings(self) -> AccountSettings:
        return AccountSettings(
            sales_account="Income:Sales:Online",
            fee_account="Expenses:Fees:Gateway",
            refund_account="Liabilities:Refunds",
            bank_account="Assets:Gateway-Clearing",
            item="unused by journals",
            payout_account="Assets:Bank:Operating",
            adjustment_account="Equity:Payout-Adjustments",
        )

    def wrong_settings(self) -> Iterable[tuple[AccountSettings, str]]:
        good = self.settings()
        yield replace(good, fee_account="Income:Sales:Online"), "Income:Sales:Online"
        yield replace(good, bank_account="clearing"), "clearing"
        yield replace(good, extra={"receivable_account": "Liabilities:Owed"}), "Liabilities:Owed"

    def lose_next_response(self, kind: DocumentKind) -> None:
        self._lose_next = kind

    def held_keys(self) -> list[str]:
        if not self.path.exists():
            return []
        return read_beancount(self.path) if self.format == "beancount" else read_csv(self.path)

    def make_unhealthy(self) -> bool:
        shutil.rmtree(self.books)
        return True
