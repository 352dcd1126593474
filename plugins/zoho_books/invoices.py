"""Invoices: one line (default item, sales account, rate = amount, quantity 1), then marked
sent. An invoice counts as delivered only once sent; a created invoice whose "mark sent"
failed is kept in :class:`DraftInvoices` so any retry finishes it instead of creating another.
"""

from __future__ import annotations

from typing import Any

from core.api import (
    DeliveryContext,
    DeliveryUncertain,
    DocumentRejected,
    Invoice,
    TransientError,
)
from plugins.zoho_books.drafts import DraftInvoices
from plugins.zoho_books.metadata import Currency
from plugins.zoho_books.writing import INVOICES, OPEN_INVOICE, Books

__all__ = ["Invoices"]

WRITTEN_STATUSES = frozenset({"draft", "paid", *OPEN_INVOICE})  # not void


class Invoices:
    """Writes invoices and finds an earlier attempt's by reference."""

    def __init__(self, books: Books, drafts: DraftInvoices) -> None:
        self._books = books
        self._drafts = drafts

    def deliver(self, document: Invoice, context: DeliveryContext) -> str:
        pending = self._drafts.get(document.key)
        if pending:
            return self._finish(pending, document.key, status=None)
        books = self._books
        currency = books.currency(document)
        body = self._body(document, context, currency)
        invoice = books.create(INVOICES, body, document.key)
        invoice_id = str(invoice["invoice_id"])
        self._verify(document, currency, invoice)
        return self._finish(invoice_id, document.key, status=str(invoice.get("status")))

    def find(self, document: Invoice, context: DeliveryContext | None = None) -> str | None:
        """The invoice an earlier attempt created, finished (marked sent). A draft that is not
        what was asked (Zoho added the item's tax before the tax was set) is corrected in place
        under the current settings (``PUT /invoices/{id}``, zoho.invoice.update): a draft is
        not in the books yet, and its id and key stay, so nothing is created twice."""
        rows = self._books.find_rows(INVOICES, document.key)
        if not rows:
            return None
        row = rows[0]
        currency = self._books.currency(document)
        try:
            self._verify(document, currency, row)
        except DocumentRejected:
            if context is None or row.get("status") != "draft":
                raise
            self._correct_draft(document, context, currency, str(row["invoice_id"]))
            return self._finish(str(row["invoice_id"]), document.key, "draft")
        return self._finish(str(row["invoice_id"]), document.key, str(row["status"]))

    def _body(
        self, document: Invoice, context: DeliveryContext, currency: Currency
    ) -> dict[str, Any]:
        """The invoice as asked under the current settings (accounts, item, tax)."""
        books = self._books
        body = books.one_line_body(document, context.settings, currency, "sales_account")
        line = body["line_items"][0]
        books.with_rate(body, document, currency)
        books.taxed(context.settings, body, line)
        return body

    def _finish(self, invoice_id: str, key: str, status: str | None) -> str:
        """Mark a created invoice sent; only then is it delivered. When that fails, the
        invoice is kept as a draft to finish (in the store, before the error is raised)."""
        client = self._books.client
        try:
            if status is None:
                status = str(client.get(f"/invoices/{invoice_id}")["invoice"]["status"])
            if status == "draft":
                client.post(f"/invoices/{invoice_id}/status/sent")
        except TransientError as error:
            self._drafts.remember(key, invoice_id)
            if isinstance(error, DeliveryUncertain):
                raise
            raise DeliveryUncertain(
                f"{key}: invoice {invoice_id} was created but not yet marked sent ({error}).",
                "The next attempt finds it by reference and marks it sent.",
            ) from None
        except Exception:
            self._drafts.remember(key, invoice_id)
            raise
        self._drafts.forget(key)
        return invoice_id

    def _verify(self, document: Invoice, currency: Currency, answer: dict[str, Any]) -> None:
        asked: dict[str, Any] = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": document.date.isoformat(),
            "customer_id": self._books.metadata.customer_for(currency),
            "status": WRITTEN_STATUSES,
        }
        record = f"invoice {answer.get('invoice_number') or answer.get('invoice_id')}"
        self._books.verify("the invoice", document.key, asked, answer, record)

    def _correct_draft(
        self, document: Invoice, context: DeliveryContext, currency: Currency, invoice_id: str
    ) -> None:
        # The lines sent replace the draft's (a line left out is deleted: zoho.invoice.update).
        body = self._body(document, context, currency)
        answer = dict(self._books.client.put(f"/invoices/{invoice_id}", body)["invoice"])
        self._verify(document, currency, answer)
