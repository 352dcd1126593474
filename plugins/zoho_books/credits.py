"""Credit notes and their refunds.

- Credit note: on the refund account, associated with the original invoice (``?invoice_id=``).
- Credit refund: credit applied to the invoice while it still has a balance
  (``POST /invoices/{id}/credits``), the rest refunded from the clearing account.

A credit refund is found again through its credit note's refunds and applied credits; a
refusal (over the credit left, over the invoice's balance) looks there before it counts as
final: it may mean an earlier attempt went in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.api import (
    CreditNote,
    CreditRefund,
    DeliveryContext,
    DeliveryUncertain,
    DocumentRejected,
)
from plugins.zoho_books.writing import CREDIT_NOTES, OPEN_INVOICE, Books, decimal_of

__all__ = ["CreditNotes", "CreditRefunds"]


class CreditNotes:
    """Writes credit notes and finds an earlier attempt's by reference."""

    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: CreditNote, context: DeliveryContext) -> str:
        books = self._books
        currency = books.currency(document)
        body = books.one_line_body(document, context.settings, currency, "refund_account")
        line = body["line_items"][0]
        params = None
        if document.invoice_key:
            params = {"invoice_id": books.depends(context, document.invoice_key, document)}
        books.with_rate(body, document, currency)
        books.taxed(context.settings, body, line)
        note = books.create(CREDIT_NOTES, body, document.key, params)
        asked = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": body["date"],
            "customer_id": body["customer_id"],
        }
        record = f"credit note {note.get('creditnote_number') or note.get('creditnote_id')}"
        books.verify("the credit note", document.key, asked, note, record)
        return str(note["creditnote_id"])

    def find(self, document: CreditNote, context: DeliveryContext) -> str | None:
        return self._books.find_by_reference(CREDIT_NOTES, document.key)


class CreditRefunds:
    """Gives a credit note's credit back: applied to its invoice, the rest refunded."""

    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: CreditRefund, context: DeliveryContext) -> str:
        credit_note_id = self._books.depends(context, document.credit_note_key, document)
        credit_note = self._books.client.get(f"/creditnotes/{credit_note_id}")["creditnote"]
        remaining = min(document.amount, decimal_of(credit_note.get("balance", 0)))
        if remaining <= 0:
            found = self.find(document, context)
            if found:
                return found
            raise DocumentRejected(
                f"{document.key}: credit note {credit_note_id} has no credit left to refund.",
                "Someone used the credit in Zoho Books; check the credit note there.",
            )
        try:
            return self._apply_and_refund(document, context, credit_note_id, credit_note, remaining)
        except DocumentRejected:
            # Over the credit balance or the invoice's balance may mean an earlier attempt
            # already applied or refunded it: look on the credit note before it is final.
            found = self.find(document, context)
            if found:
                return found
            raise

    def find(self, document: CreditRefund, context: DeliveryContext) -> str | None:
        credit_note_id = context.remote_ids.get(document.credit_note_key)
        if not credit_note_id:
            return None
        client = self._books.client
        refunds = client.list_all(f"/creditnotes/{credit_note_id}/refunds", "creditnote_refunds")
        for row in refunds:
            if row.get("reference_number") == document.key:
                return str(row["creditnote_refund_id"])
        credit_note = client.get(f"/creditnotes/{credit_note_id}")["creditnote"]
        invoice_id = _credited_invoice(document, context, credit_note)
        if invoice_id and decimal_of(credit_note.get("balance", 0)) <= 0:
            return self._credited_id(credit_note_id, invoice_id)
        return None

    def _apply_and_refund(
        self,
        document: CreditRefund,
        context: DeliveryContext,
        credit_note_id: str,
        credit_note: dict[str, Any],
        remaining: Decimal,
    ) -> str:
        books = self._books
        bank = books.setting(context.settings, "bank_account", document.currency)
        invoice_id = _credited_invoice(document, context, credit_note)
        applied_id: str | None = None
        if invoice_id:
            invoice = books.client.get(f"/invoices/{invoice_id}")["invoice"]
            balance = decimal_of(invoice.get("balance", 0))
            if invoice.get("status") in OPEN_INVOICE and balance > 0:
                applied = min(remaining, balance)
                applied_id = self._apply_credit(credit_note_id, invoice_id, applied)
                remaining -= applied
        if remaining <= 0:
            if applied_id:
                return applied_id
            raise DeliveryUncertain(
                f"{document.key}: credit was applied to invoice {invoice_id} but Zoho Books "
                "does not list it yet.",
                "The next attempt looks it up again.",
            )
        body: dict[str, Any] = {
            "date": document.date.isoformat(),
            "amount": remaining,
            "from_account_id": bank,
            "refund_mode": books.payment_mode,
            "reference_number": document.key,
        }
        if document.description:
            body["description"] = document.description[:100]
        answer = books.client.post(f"/creditnotes/{credit_note_id}/refunds", body)
        refund = dict(answer["creditnote_refund"])
        asked = {"amount": remaining, "date": body["date"], "from_account_id": bank}
        record = f"refund {refund.get('creditnote_refund_id')} of credit note {credit_note_id}"
        books.verify("the refund", document.key, asked, refund, record)
        return str(refund["creditnote_refund_id"])

    def _apply_credit(self, credit_note_id: str, invoice_id: str, amount: Decimal) -> str | None:
        """Credit applied through the invoice (zoho.credit.apply_via_invoice); the id of the
        application from the answer's ``use_credits``, else read back from the credit note."""
        answer = self._books.client.post(
            f"/invoices/{invoice_id}/credits",
            {"apply_creditnotes": [{"creditnote_id": credit_note_id, "amount_applied": amount}]},
        )
        for row in (answer.get("use_credits") or {}).get("apply_creditnotes") or []:
            if str(row.get("creditnote_id")) == credit_note_id and row.get(
                "creditnotes_invoice_id"
            ):
                return str(row["creditnotes_invoice_id"])
        return self._credited_id(credit_note_id, invoice_id)

    def _credited_id(self, credit_note_id: str, invoice_id: str) -> str | None:
        answer = self._books.client.get(f"/creditnotes/{credit_note_id}/invoices")
        for row in answer.get("invoices_credited") or []:
            if str(row.get("invoice_id")) == invoice_id:
                return str(row["creditnote_invoice_id"])
        return None


def _credited_invoice(
    document: CreditRefund, context: DeliveryContext, credit_note: dict[str, Any]
) -> str | None:
    """The original invoice: from the context when the host passed it, else the one the
    credit note was raised against (``?invoice_id=``, listed in its ``invoices``)."""
    if document.invoice_key and context.remote_ids.get(document.invoice_key):
        return context.remote_ids[document.invoice_key]
    for row in credit_note.get("invoices") or []:
        if row.get("invoice_id"):
            return str(row["invoice_id"])
    return None
