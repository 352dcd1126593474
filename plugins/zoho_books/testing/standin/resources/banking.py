"""Banking: transfers between accounts (bank transactions), journals, a bank account."""

from __future__ import annotations

from typing import Any

from plugins.zoho_books.testing.standin import banking
from plugins.zoho_books.testing.standin.resources.documents import DocumentKind, document_routes
from plugins.zoho_books.testing.standin.routing import Answer, Call, Route, done

__all__ = ["JOURNALS", "ROUTES", "TRANSFERS"]


def _on_account(row: dict[str, Any], query: dict[str, str]) -> bool:
    account = query.get("account_id")
    return account is None or account in (row["from_account_id"], row["to_account_id"])


TRANSFERS = DocumentKind(
    collection="banktransactions",
    one="banktransaction",
    what="Bank transaction",
    scope="banking",
    table=lambda org: org.banktransactions,
    to_json=banking.transfer_json,
    create=lambda call, data: banking.create_transfer(call.org, data),
    created="The transaction has been created.",
    row_filter=_on_account,
    operations=("list", "create"),
)

JOURNALS = DocumentKind(
    collection="journals",
    one="journal",
    what="Journal",
    scope="accountants",
    table=lambda org: org.journals,
    to_json=banking.journal_json,
    create=lambda call, data: banking.create_journal(call.org, data),
    created="The journal entry has been created.",
    operations=("list", "create"),
)


def bank_account(call: Call) -> Answer:
    return done(bankaccount=banking.bank_account_json(call.org, call.record_id))


ROUTES = [
    *document_routes(TRANSFERS),
    *document_routes(JOURNALS),
    Route("GET", "/bankaccounts/<record_id>", bank_account, "banking"),
]
