"""Sample documents for destination tests: one of each kind, linked as a real sync links them.

The chain is in dependency order: a sale's invoice, its payment, the gateway's fee, a partial
refund's credit note (after the payment, so the invoice is paid), the credit-note refund, and
the payout that settles it (an adjustment for a charge from before the sync, then the transfer).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.documents import (
    Adjustment,
    CreditNote,
    CreditRefund,
    Document,
    DocumentKind,
    Expense,
    Invoice,
    Payment,
    Transfer,
)
from core.money import quantize

__all__ = ["SAMPLE_DATE", "document_chain", "prefix_of"]

SAMPLE_DATE = date(2026, 1, 15)


def document_chain(
    currency: str = "SGD",
    on: date = SAMPLE_DATE,
    *,
    source: str = "conformance",
    serial: str = "1",
) -> list[Document]:
    """Invoice, payment, expense, credit note, credit-note refund of one sale in ``currency``,
    and the payout adjustment and transfer that clear it.

    Amounts are whole numbers so they sit at any currency's precision (JPY 0, SGD 2, KWD 3).
    """

    def money(value: str) -> Decimal:
        return quantize(Decimal(value), currency)

    charge = f"{source}:charge:{serial}"
    refund = f"{source}:refund:{serial}"
    payout = f"{source}:payout:{serial}"
    invoice = Invoice(
        key=f"{charge}:invoice",
        date=on,
        currency=currency,
        amount=money("1200"),
        record_ids=(f"charge:{serial}",),
        description="Conformance sale",
    )
    payment = Payment(
        key=f"{charge}:payment",
        date=on,
        currency=currency,
        amount=money("1200"),
        record_ids=(f"charge:{serial}",),
        description="Conformance payment",
        invoice_key=invoice.key,
    )
    expense = Expense(
        key=f"{charge}:fee",
        date=on,
        currency=currency,
        amount=money("35"),
        record_ids=(f"charge:{serial}",),
        description="Conformance gateway fee",
    )
    credit_note = CreditNote(
        key=f"{refund}:credit_note",
        date=on,
        currency=currency,
        amount=money("400"),
        record_ids=(f"refund:{serial}",),
        description="Conformance partial refund",
        invoice_key=invoice.key,
        payment_key=payment.key,
    )
    credit_refund = CreditRefund(
        key=f"{refund}:credit_refund",
        date=on,
        currency=currency,
        amount=money("400"),
        record_ids=(f"refund:{serial}",),
        description="Conformance refund paid out",
        credit_note_key=credit_note.key,
        invoice_key=invoice.key,
    )
    adjustment = Adjustment(
        key=f"{payout}:adjustment",
        date=on,
        currency=currency,
        amount=money("100"),
        record_ids=(f"payout:{serial}",),
        description="Conformance payout adjustment",
        into_clearing=True,
        items=("charge before the sync was enabled: 100",),
    )
    transfer = Transfer(
        key=payout,
        date=on,
        currency=currency,
        amount=money("865"),
        record_ids=(f"payout:{serial}",),
        description="Conformance payout",
    )
    return [invoice, payment, expense, credit_note, credit_refund, adjustment, transfer]


def prefix_of(chain: list[Document], kind: DocumentKind) -> tuple[list[Document], Document]:
    """The documents delivered before the one of ``kind``, and that document."""
    for index, document in enumerate(chain):
        if document.kind is kind:
            return chain[:index], document
    raise LookupError(f"no {kind} in the chain")
