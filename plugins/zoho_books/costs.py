"""What delivering each document kind costs in Zoho Books API calls (the dry-run forecast).

Counted from the writer at steady state (metadata cached, first attempt):

- invoice: the create, then ``POST /invoices/{id}/status/sent`` (Zoho creates drafts);
- payment, expense, credit note, transfer, adjustment: the create;
- credit refund: ``GET /creditnotes/{id}``, ``GET /invoices/{id}`` (is it still open?), then
  either the refund or the credit applied to the open invoice.

A document whose earlier attempt is uncertain is looked up by reference first (one list call).
Once per run, what the metadata cache lacks is read (one list call per kind of metadata) and
a customer missing for a currency is looked up and created (two calls).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from core.api import CallCosts, DocumentKind, KeyValueCache

__all__ = ["CALLS_PER_DOCUMENT", "call_costs"]

CALLS_PER_DOCUMENT: dict[str, int] = {
    DocumentKind.INVOICE.value: 2,
    DocumentKind.PAYMENT.value: 1,
    DocumentKind.EXPENSE.value: 1,
    DocumentKind.CREDIT_NOTE.value: 1,
    DocumentKind.CREDIT_REFUND.value: 3,
    DocumentKind.TRANSFER.value: 1,
    DocumentKind.ADJUSTMENT.value: 1,
}


METADATA = ("accounts", "items", "currencies")  # what every sync reads (validate, amounts)


def setup_calls(
    organization_id: str, cache: KeyValueCache, currencies: Collection[str], *, taxed: bool
) -> int:
    """Calls for the metadata and generic customers the cache does not hold yet."""
    prefix = f"zoho_books:{organization_id}"
    lists = (*METADATA, "taxes") if taxed else METADATA
    missing = sum(1 for name in lists if cache.get(f"{prefix}:{name}") is None)
    customers = dict(cache.get(f"{prefix}:customers") or {})
    return missing + 2 * sum(1 for code in currencies if code not in customers)


def call_costs(
    config: Mapping[str, Any], cache: KeyValueCache, currencies: Collection[str]
) -> CallCosts:
    """The costs for a connection's destination settings (its per-minute limit)."""
    per_minute = int(config.get("requests_per_minute") or 100)
    organization = str(config.get("organization_id") or "")
    return CallCosts(
        per_document=CALLS_PER_DOCUMENT,
        per_minute=per_minute,
        setup=setup_calls(organization, cache, currencies, taxed=False),
        recheck=1,
    )
