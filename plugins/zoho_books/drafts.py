"""Invoices created but not yet marked sent, so a second ``deliver`` finishes them.

An invoice counts as delivered only once it is marked sent. When the "mark sent" request
fails after the invoice was created, its id is kept here, in the store, before the error is
raised: a later ``deliver`` of the same document (even one that does not look it up first)
marks that invoice sent instead of creating a second one.

The id is not written before the send, and nothing is written when it succeeds: a crash
between the create and the send leaves no record here (as a crash before any such write
always could), and needs none, because the host counts every attempt in the store before
sending and looks a document up by key (``find_existing``, which finds and finishes the
invoice by reference) before any later attempt. So the record is kept only where the writer
itself saw the send fail, and the happy path spends no store round trip on it.

All of an organization's records are one cache entry, read once a run (through the run's
cache) and rewritten only when a record is added or removed. Records under the earlier
per-invoice names (``...:draft_invoice:<key>``) are not read: the document they belong to was
attempted, so the host looks it up by reference first.
"""

from __future__ import annotations

from core.api import KeyValueCache

__all__ = ["DraftInvoices"]


class DraftInvoices:
    """Document key -> id of its invoice that Zoho Books still holds as a draft."""

    def __init__(self, cache: KeyValueCache, organization_id: str) -> None:
        self._cache = cache
        self._name = f"zoho_books:{organization_id}:draft_invoices"

    def _all(self) -> dict[str, str]:
        found = self._cache.get(self._name)
        return found if isinstance(found, dict) else {}

    def get(self, key: str) -> str | None:
        found = self._all().get(key)
        return str(found) if found else None

    def remember(self, key: str, invoice_id: str) -> None:
        drafts = self._all()
        if drafts.get(key) != invoice_id:
            self._cache.set(self._name, {**drafts, key: invoice_id})

    def forget(self, key: str) -> None:
        drafts = self._all()
        if key in drafts:
            self._cache.set(self._name, {k: v for k, v in drafts.items() if k != key})
