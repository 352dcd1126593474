"""One writer per document kind: how each becomes Zoho Books records, and how an earlier
attempt is found again by its key (``reference_number``).

- Invoice (``invoices.py``): one line, then marked sent; delivered only once sent.
- Payment (``payments.py``): deposited to the clearing (bank) account, applied to its invoice.
- Expense (``expenses.py``): on the fee account, paid through the clearing account.
- Credit note and credit refund (``credits.py``): the credit note on the refund account, tied
  to the original invoice; its refund applied to the invoice while it has a balance, the rest
  refunded from the clearing account.
- Transfer and adjustment (``transfers.py``): a payout's fund transfer and its journal.

What they share (currency, rate, settings, verified creates, look-ups by reference) is
``writing.Books``. A payment is also found through its invoice's payments, a credit refund
through its credit note's refunds and applied credits; a refusal of either (over the balance
due, over the credit left) looks there before it counts as final: it may mean an earlier
attempt went in.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.api import (
    Adjustment,
    CreditNote,
    CreditRefund,
    DeliveryContext,
    Document,
    Expense,
    Invoice,
    KeyValueCache,
    Payment,
    Transfer,
)
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.credits import CreditNotes, CreditRefunds
from plugins.zoho_books.drafts import DraftInvoices
from plugins.zoho_books.expenses import Expenses
from plugins.zoho_books.invoices import Invoices
from plugins.zoho_books.metadata import Metadata
from plugins.zoho_books.payments import Payments
from plugins.zoho_books.transfers import (
    deliver_adjustment,
    deliver_transfer,
    find_adjustment,
    find_transfer,
)
from plugins.zoho_books.writing import CREDIT_NOTES, EXPENSES, INVOICES, PAYMENTS, Books

__all__ = ["CREDIT_NOTES", "EXPENSES", "INVOICES", "PAYMENTS", "Writer"]


class _KindWriter(Protocol):
    def deliver(self, document: Any, context: DeliveryContext) -> str: ...

    def find(self, document: Any, context: DeliveryContext) -> str | None: ...


class _Transfers:
    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: Transfer, context: DeliveryContext) -> str:
        currency = self._books.currency(document)
        return deliver_transfer(self._books.client, currency, document, context.settings)

    def find(self, document: Transfer, context: DeliveryContext) -> str | None:
        return find_transfer(self._books.client, document, context.settings)


class _Adjustments:
    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: Adjustment, context: DeliveryContext) -> str:
        currency = self._books.currency(document)
        return deliver_adjustment(self._books.client, currency, document, context.settings)

    def find(self, document: Adjustment, context: DeliveryContext) -> str | None:
        return find_adjustment(self._books.client, document)


class Writer:
    """Writes documents to one organization."""

    def __init__(
        self,
        client: BooksClient,
        metadata: Metadata,
        cache: KeyValueCache,
        *,
        unique_field: str | None = None,
        payment_mode: str = "others",
        connection_name: str = "NAME",
        exchange_rates: str = "zoho",
    ) -> None:
        books = Books(
            client,
            metadata,
            unique_field=unique_field,
            payment_mode=payment_mode,
            connection_name=connection_name,
            exchange_rates=exchange_rates,
        )
        self.payments = Payments(books)
        self._kinds: dict[type[Document], _KindWriter] = {
            Invoice: Invoices(books, DraftInvoices(cache, client.organization_id)),
            Payment: self.payments,
            Expense: Expenses(books),
            CreditNote: CreditNotes(books),
            CreditRefund: CreditRefunds(books),
            Transfer: _Transfers(books),
            Adjustment: _Adjustments(books),
        }

    def _kind(self, document: Document) -> _KindWriter:
        found = self._kinds.get(type(document))
        if found is None:  # a subclass of a document kind is written as that kind
            found = next((self._kinds[c] for c in type(document).__mro__ if c in self._kinds), None)
        if found is None:
            raise TypeError(f"unknown document {document!r}")
        return found

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        return self._kind(document).deliver(document, context)

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        return self._kind(document).find(document, context)

    def find_payment_on_invoice(self, document: Payment, context: DeliveryContext) -> str | None:
        """A payment through its invoice's payments only (the second way)."""
        return self.payments.find_on_invoice(document, context)
