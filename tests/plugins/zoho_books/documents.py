"""Sample documents for the Zoho Books tests (keys as a real source's mapper makes them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.documents import CreditNote, CreditRefund, Expense, Invoice, Payment

DAY = date(2026, 1, 14)


def sale(
    serial: str = "1",
    amount: str = "120.50",
    currency: str = "SGD",
    *,
    fee: str = "3.25",
    refund: str = "20.50",
    exchange_rate: str | None = None,
    paid: bool = True,
) -> dict[str, object]:
    """Invoice, payment, fee expense, credit note and credit refund of one charge."""
    charge = f"test:charge:{serial}"
    invoice = Invoice(
        key=f"{charge}:invoice",
        date=DAY,
        currency=currency,
        amount=Decimal(amount),
        record_ids=(serial,),
        description=f"Sale {serial}",
        exchange_rate=Decimal(exchange_rate) if exchange_rate else None,
    )
    payment = Payment(
        key=f"{charge}:payment",
        date=DAY,
        currency=currency,
        amount=Decimal(amount),
        record_ids=(serial,),
        invoice_key=invoice.key,
    )
    expense = Expense(
        key=f"{charge}:fee",
        date=DAY,
        currency=currency,
        amount=Decimal(fee),
        record_ids=(serial,),
        description="Gateway fee",
    )
    credit_note = CreditNote(
        key=f"test:refund:{serial}:credit_note",
        date=DAY,
        currency=currency,
        amount=Decimal(refund),
        record_ids=(f"r{serial}",),
        description=f"Refund of sale {serial}",
        invoice_key=invoice.key,
        payment_key=payment.key if paid else "",
    )
    credit_refund = CreditRefund(
        key=f"test:refund:{serial}:credit_refund",
        date=DAY,
        currency=currency,
        amount=Decimal(refund),
        record_ids=(f"r{serial}",),
        credit_note_key=credit_note.key,
        invoice_key=invoice.key,
    )
    return {
        "invoice": invoice,
        "payment": payment,
        "expense": expense,
        "credit_note": credit_note,
        "credit_refund": credit_refund,
    }
