"""Payments: deposited to the clearing (bank) account, applied to their invoices.

A payment is found again by reference, and also through its invoice's payments; a refusal
(over the balance due) looks there before it counts as final: it may mean an earlier
attempt went in.
"""

from __future__ import annotations

from typing import Any

from core.api import DeliveryContext, DocumentRejected, Payment
from plugins.zoho_books.writing import PAYMENTS, Books

__all__ = ["Payments"]


class Payments:
    """Writes customer payments and finds an earlier attempt's."""

    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: Payment, context: DeliveryContext) -> str:
        books = self._books
        applied = [
            {"invoice_id": books.depends(context, invoice_key, document), "amount_applied": amount}
            for invoice_key, amount in document.applications
        ]
        currency = books.currency(document)
        body: dict[str, Any] = {
            "customer_id": books.metadata.customer_for(currency),
            "payment_mode": books.payment_mode,
            "amount": document.amount,
            "date": document.date.isoformat(),
            "reference_number": document.key,
            "account_id": books.setting(context.settings, "bank_account", document.currency),
            "invoices": applied,  # zoho.payment.many_invoices: one payment, many invoices
        }
        if document.description:
            body["description"] = document.description
        books.with_rate(body, document, currency)
        try:
            payment = books.create(PAYMENTS, body, document.key)
        except DocumentRejected:
            # "More than the balance due" may mean an earlier attempt already paid it: look on
            # the invoice before calling the refusal final (zoho.error.over_balance).
            found = self.find_on_invoice(document, context)
            if found:
                return found
            raise
        asked = {
            "amount": document.amount,
            "date": body["date"],
            "customer_id": body["customer_id"],
            "account_id": body["account_id"],
        }
        record = f"payment {payment.get('payment_number') or payment.get('payment_id')}"
        books.verify("the payment", document.key, asked, payment, record)
        return str(payment["payment_id"])

    def find(self, document: Payment, context: DeliveryContext) -> str | None:
        return self._books.find_by_reference(PAYMENTS, document.key) or self.find_on_invoice(
            document, context
        )

    def find_on_invoice(self, document: Payment, context: DeliveryContext) -> str | None:
        """The second way: the payments applied to the invoice (``GET /invoices/{id}/payments``,
        zoho.list_key.invoice_payments), matched on the exact reference."""
        invoice_id = context.remote_ids.get(document.invoice_key)
        if not invoice_id:
            return None
        answer = self._books.client.get(f"/invoices/{invoice_id}/payments")
        for row in answer.get("payments") or []:
            if row.get("reference_number") == document.key:
                return str(row["payment_id"])
        return None
