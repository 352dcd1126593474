"""Sales: invoices and the customer payments applied to them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.chart import Chart
from plugins.zoho_books.testing.standin.records import (
    Invoice,
    Payment,
    _custom_fields,
    _tax_json,
    _totals,
)
from plugins.zoho_books.testing.standin.rules import (
    DEPOSIT_TYPES,
    INCOME_TYPES,
    INVOICE_NOT_OPEN,
    MANDATORY,
    OVER_BALANCE,
    PAYMENT_MODES,
    STATUS,
    _bad,
    _date,
    _reference,
    _require,
)

__all__ = ["Sales"]


class Sales(Chart):
    """An organization's invoices and payments, on top of its chart."""

    # -- invoices -----------------------------------------------------------------------

    def create_invoice(self, body: dict[str, Any], *, send: bool = False) -> Invoice:
        _require(body, "customer_id", "line_items")
        contact = self.customer(body["customer_id"])
        currency = self._currency_for(body, contact, "invoice")
        lines = self._lines(body, currency, INCOME_TYPES, item_required=True)
        inclusive = body.get("is_inclusive_tax") is True
        total, _ = _totals(lines, inclusive)
        if total <= 0:
            raise _bad("The invoice total must be greater than zero.")
        number = sum(1 for _ in self.invoices) + 1
        invoice = Invoice(
            invoice_id=self.new_id(),
            invoice_number=f"INV-{number:06d}",
            customer_id=contact.contact_id,
            currency_id=currency.currency_id,
            date=_date(body.get("date") or "2026-01-01"),
            reference_number=_reference(body),
            lines=lines,
            total=total,
            balance=total,
            exchange_rate=self._exchange_rate(body, currency),
            is_inclusive_tax=inclusive,
        )
        if send:
            invoice.status, invoice.emailed = "sent", True
        self.invoices[invoice.invoice_id] = invoice
        return invoice

    def invoice(self, invoice_id: str) -> Invoice:
        invoice: Invoice = self._get(self.invoices, invoice_id, "Invoice")
        return invoice

    def update_invoice(self, invoice_id: str, body: dict[str, Any]) -> Invoice:
        """The lines (and date, reference, inclusive flag) replaced; refused once anything
        is applied to the invoice or it is void."""
        invoice = self.invoice(invoice_id)
        if invoice.status == "void" or invoice.balance != invoice.total:
            raise _bad(
                f"The invoice {invoice.invoice_number} cannot be edited ({invoice.status}, "
                "payments or credits applied).",
                STATUS,
            )
        currency = self.currency_by_id(invoice.currency_id)
        lines = self._lines(body, currency, INCOME_TYPES, item_required=True)
        inclusive = body.get("is_inclusive_tax") is True
        total, _ = _totals(lines, inclusive)
        if total <= 0:
            raise _bad("The invoice total must be greater than zero.")
        invoice.lines, invoice.total, invoice.balance = lines, total, total
        invoice.is_inclusive_tax = inclusive
        if body.get("date"):
            invoice.date = _date(body["date"])
        if "reference_number" in body:
            invoice.reference_number = _reference(body)
        return invoice

    def mark_sent(self, invoice_id: str) -> None:
        invoice = self.invoice(invoice_id)
        if invoice.status != "draft":
            raise _bad(f"Only a draft invoice can be marked as sent ({invoice.status}).", STATUS)
        invoice.status = "sent"

    def invoice_json(self, invoice: Invoice) -> dict[str, Any]:
        currency = self.currency_by_id(invoice.currency_id)
        return {
            "invoice_id": invoice.invoice_id,
            "invoice_number": invoice.invoice_number,
            "customer_id": invoice.customer_id,
            "customer_name": self.contacts[invoice.customer_id].contact_name,
            "currency_id": invoice.currency_id,
            "currency_code": currency.currency_code,
            "date": invoice.date,
            "reference_number": invoice.reference_number,
            "status": invoice.status,
            "exchange_rate": invoice.exchange_rate,
            "total": invoice.total,
            **_tax_json(invoice.lines, invoice.is_inclusive_tax),
            "balance": invoice.balance,
            "line_items": [
                line.to_json(f"{invoice.invoice_id}{n}") for n, line in enumerate(invoice.lines)
            ],
            "custom_fields": _custom_fields(invoice.custom_fields),
        }

    # -- customer payments --------------------------------------------------------------

    def create_payment(self, body: dict[str, Any]) -> Payment:
        _require(body, "customer_id", "payment_mode", "amount", "date", "invoices", "account_id")
        contact = self.customer(body["customer_id"])
        currency = self.currency_by_id(contact.currency_id)
        mode = str(body["payment_mode"])
        if mode not in PAYMENT_MODES:
            raise _bad("Invalid value passed for payment_mode.")
        amount = self._amount(body["amount"], "amount", currency)
        self.account(body["account_id"], DEPOSIT_TYPES, "deposit to account")
        applied: list[tuple[Invoice, Decimal]] = []
        for row in body["invoices"] if isinstance(body["invoices"], list) else []:
            _require(row, "invoice_id", "amount_applied")
            invoice = self.invoice(row["invoice_id"])
            if invoice.customer_id != contact.contact_id:
                raise _bad("The invoice belongs to another customer.")
            if invoice.status in ("draft", "void"):
                raise _bad(
                    f"Payments cannot be recorded for a {invoice.status} invoice.",
                    INVOICE_NOT_OPEN,
                )
            share = self._amount(row["amount_applied"], "amount_applied", currency)
            if share > invoice.balance:
                raise _bad("The amount entered is more than the balance due.", OVER_BALANCE)
            applied.append((invoice, share))
        if not applied:
            raise _bad("invoices is mandatory.", MANDATORY)
        if sum((share for _, share in applied), Decimal(0)) > amount:
            raise _bad("The amount applied to invoices is more than the payment amount.")
        for invoice, share in applied:
            invoice.balance -= share
            invoice.status = "paid" if invoice.balance == 0 else "partially_paid"
        payment = Payment(
            payment_id=self.new_id(),
            customer_id=contact.contact_id,
            currency_id=currency.currency_id,
            payment_mode=mode,
            amount=amount,
            date=_date(body["date"]),
            reference_number=_reference(body),
            account_id=str(body["account_id"]),
            applied=[(invoice.invoice_id, share) for invoice, share in applied],
            description=str(body.get("description") or ""),
        )
        self.payments[payment.payment_id] = payment
        return payment

    def payment_json(self, payment: Payment) -> dict[str, Any]:
        return {
            "payment_id": payment.payment_id,
            "customer_id": payment.customer_id,
            "payment_mode": payment.payment_mode,
            "amount": payment.amount,
            "date": payment.date,
            "reference_number": payment.reference_number,
            "account_id": payment.account_id,
            "currency_code": self.currency_by_id(payment.currency_id).currency_code,
            "description": payment.description,
            "invoices": [
                {"invoice_id": invoice_id, "amount_applied": share}
                for invoice_id, share in payment.applied
            ],
            "custom_fields": _custom_fields(payment.custom_fields),
        }
