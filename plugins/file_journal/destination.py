"""The file journal as a Destination: documents appended once, found again by key."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

from core.api import (
    AccountSettings,
    DeliveryContext,
    Document,
    DocumentKind,
    DocumentRejected,
    Health,
    LedgersyncError,
    PluginContext,
)
from plugins.file_journal.accounts import JournalAccounts
from plugins.file_journal.config import JournalConfig
from plugins.file_journal.entries import JournalEntry, entry_for
from plugins.file_journal.journal import JournalFile

__all__ = ["FileJournal", "journal_health"]


def journal_health(config: JournalConfig) -> Health:
    """Whether the journal can be written: its folder exists and it is ours or new."""
    path = config.path
    if not path.parent.is_dir():
        return Health(False, f"the folder {path.parent} does not exist")
    if path.exists():
        if not path.is_file():
            return Health(False, f"{path} is not a file")
        if not os.access(path, os.W_OK):
            return Health(False, f"{path} is not writable")
        try:
            JournalFile(path, config.format).keys()
        except LedgersyncError as error:
            return Health(False, str(error))
        return Health(True, f"{config.format.name} journal {path}")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return Health(False, f"the folder {path.parent} is not writable")
    return Health(True, f"{config.format.name} journal {path} (created on first entry)")


class FileJournal:
    """Writes each document as a balanced double-entry journal entry (CSV or Beancount).

    A write counts as one API call. ``after_write`` is a test seam: called after an entry is
    durable and before ``deliver`` returns, it lets a harness simulate a crash right there.
    """

    name: ClassVar[str] = "file_journal"
    display_name: ClassVar[str] = "Double-entry journal file (CSV or Beancount)"
    # Rollback appends a reversing entry (the file is append-only, never rewritten).
    deletable_kinds: ClassVar[frozenset[str]] = frozenset(kind.value for kind in DocumentKind)

    def __init__(self, context: PluginContext) -> None:
        self.config = JournalConfig.from_mapping(context.config)
        self.journal = JournalFile(self.config.path, self.config.format)
        self._calls = context.calls
        self.after_write: Callable[[JournalEntry], None] | None = None

    def organization_id(self) -> str:
        return str(self.config.path)

    def validate(self, settings: AccountSettings) -> None:
        JournalAccounts.from_settings(settings).check()

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        return self.journal.find(document.key)

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        accounts = JournalAccounts.from_settings(context.settings)
        accounts.check()
        if any(ord(c) < 32 or c == "\x7f" for c in document.key):
            raise DocumentRejected(f"document key {document.key!r} has control characters.")
        self._calls.count()
        return self.journal.append(entry_for(document, accounts), self.after_write)

    def delete(self, remote_id: str, document: Document, context: DeliveryContext) -> None:
        """Roll back ``document``: append its reversing entry (key ``reversal:<key>``, the
        postings the file holds for it negated); nothing when it is reversed already."""
        self._calls.count()
        self.journal.reverse(entry_for(document, JournalAccounts.from_settings(context.settings)))

    def health(self) -> Health:
        return journal_health(self.config)
