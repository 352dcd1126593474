"""The destination conformance harness for Zoho Books (core.testing.DestinationHarness)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from core.api import AccountSettings, ApiCallCounter, Destination, DocumentKind
from core.testing import DestinationHarness
from plugins.zoho_books.testing.standin.server import SeededOrganization, ZohoBooksStandIn

__all__ = ["CREATE_REQUESTS", "ZohoBooksHarness"]

# The request that creates each kind of document (method, path pattern below /books/v3).
CREATE_REQUESTS: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.INVOICE: ("POST", r"^/invoices$"),
    DocumentKind.PAYMENT: ("POST", r"^/customerpayments$"),
    DocumentKind.EXPENSE: ("POST", r"^/expenses$"),
    DocumentKind.CREDIT_NOTE: ("POST", r"^/creditnotes$"),
    DocumentKind.CREDIT_REFUND: ("POST", r"^/creditnotes/\d+/refunds$"),
    DocumentKind.TRANSFER: ("POST", r"^/banktransactions$"),
    DocumentKind.ADJUSTMENT: ("POST", r"^/journals$"),
}


class ZohoBooksHarness(DestinationHarness):
    """``build(calls)`` must return a fresh ZohoBooksDestination for a connection to ``org``
    on ``standin`` (each call a new instance, as a new process would build)."""

    def __init__(
        self,
        standin: ZohoBooksStandIn,
        org: SeededOrganization,
        build: Callable[[ApiCallCounter], Destination],
        *,
        refresh_token: Callable[[], str] | None = None,
    ) -> None:
        self.standin = standin
        self.org = org
        self._build = build
        self._refresh_token = refresh_token

    def build(self, calls: ApiCallCounter) -> Destination:
        return self._build(calls)

    def settings(self) -> AccountSettings:
        settings: AccountSettings = self.org.account_settings()
        return settings

    def wrong_settings(self) -> Iterable[tuple[AccountSettings, str]]:
        good = self.settings()
        org = self.org
        yield dataclasses.replace(good, sales_account=org.fee_account), org.fee_account
        yield dataclasses.replace(good, fee_account=org.sales_account), org.sales_account
        yield dataclasses.replace(good, refund_account=org.bank_account), org.bank_account
        yield (
            dataclasses.replace(good, bank_account=org.other_bank_account.replace("0", "9")),
            (org.other_bank_account.replace("0", "9")),
        )
        inactive = org.inactive_accounts["bank"]
        yield dataclasses.replace(good, bank_account=inactive), inactive
        yield dataclasses.replace(good, item=org.inactive_item), org.inactive_item

    def lose_next_response(self, kind: DocumentKind) -> None:
        method, path = CREATE_REQUESTS[kind]
        self.standin.faults.drop_after_commit(method=method, path=path)

    def held_keys(self) -> list[str]:
        books = self.standin.books(self.org.organization_id)
        sections = (
            "invoices",
            "payments",
            "expenses",
            "credit_notes",
            "credit_refunds",
            "transfers",
            "journals",
        )
        return [row["reference_number"] for section in sections for row in books.get(section, [])]

    def served_requests(self) -> int:
        return len(self.standin.requests) + len(self.standin.accounts_requests)

    def make_unhealthy(self) -> bool:
        if self._refresh_token is None:
            return False
        self.standin.revoke(self._refresh_token())
        return True
