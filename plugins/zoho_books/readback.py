"""Reading delivered documents back from Zoho Books, by listing, for ``ledgersync verify``.

One listing per kind (page by page), never one call per document: invoices, customer payments,
expenses, credit notes, fund transfers and journals. Each row becomes a ``RemoteDocument``
(amount, date, status, account, customer) indexed by its Zoho id, which ledgersync bound to the
document's key when it delivered it. Credit-note refunds have no listing of their own and are
not read. The account is read where the row carries it (a payment's deposit-to ``account_id``,
an expense's ``account_id``, a transfer's ``from_account_id``, else the first line's
``account_id``); a row without it leaves the account unchecked, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.api import RemoteDocument
from plugins.zoho_books.client import BooksClient

__all__ = ["LISTINGS", "read_back"]

# document kind -> (path, list key(s), id field, amount field, date field)
LISTINGS: dict[str, tuple[str, tuple[str, ...], str, str, str]] = {
    "invoice": ("/invoices", ("invoices",), "invoice_id", "total", "date"),
    "payment": (
        "/customerpayments",
        ("customerpayments", "customer_payments"),
        "payment_id",
        "amount",
        "date",
    ),
    "expense": ("/expenses", ("expenses",), "expense_id", "total", "date"),
    "credit_note": ("/creditnotes", ("creditnotes",), "creditnote_id", "total", "date"),
    "transfer": ("/banktransactions", ("banktransactions",), "transaction_id", "amount", "date"),
    "adjustment": ("/journals", ("journals",), "journal_id", "total", "journal_date"),
}


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


# the field naming the account a document books to, per kind (else the first line's)
ACCOUNT_FIELDS = {"payment": "account_id", "expense": "account_id", "transfer": "from_account_id"}
CUSTOMER_KINDS = {"invoice", "payment", "credit_note"}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _account(kind: str, row: Mapping[str, Any]) -> str | None:
    if kind in ACCOUNT_FIELDS:
        return _text(row.get(ACCOUNT_FIELDS[kind]))
    if kind == "adjustment":
        return None  # a journal has two sides: its amount and date are compared
    lines = row.get("line_items")
    if isinstance(lines, list) and lines and isinstance(lines[0], Mapping):
        return _text(lines[0].get("account_id"))
    return None


def read_back(client: BooksClient, kinds: set[str]) -> Mapping[str, Mapping[str, RemoteDocument]]:
    """Per kind (those Zoho can list): remote id -> what Zoho holds now."""
    found: dict[str, dict[str, RemoteDocument]] = {}
    for kind in sorted(kinds & set(LISTINGS)):
        path, keys, id_field, amount_field, date_field = LISTINGS[kind]
        rows = client.list_all(path, keys)
        found[kind] = {
            str(row[id_field]): RemoteDocument(
                amount=_amount(row.get(amount_field)),
                date=str(row.get(date_field) or "") or None,
                status=str(row.get("status") or "") or None,
                account=_account(kind, row),
                customer=_text(row.get("customer_id")) if kind in CUSTOMER_KINDS else None,
            )
            for row in rows
            if row.get(id_field) is not None
        }
    return found
