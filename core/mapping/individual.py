"""Individual mode: one invoice and payment (and an expense for a fee) per charge.

Each refund becomes a credit note on its charge's invoice and a credit-note refund from the
clearing account. Documents are dated the record's business-local date. Charges stream
straight through; only refunds wait for the end of the input, because their charge may come
later in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import ClassVar

from core.contracts import ChargeDocuments, MappingContext
from core.documents import CreditNote, CreditRefund, Document, Expense, Invoice, Payment
from core.mapping.daily import DAILY, daily_fees, daily_payments
from core.mapping.keys import fit_key, local_date
from core.records import Charge, Record, Refund
from core.states import SyncMode

__all__ = ["IndividualMapper", "charge_keys", "refund_keys"]


def _charge_stem(source: str, charge_id: str) -> str:
    return fit_key(f"{source}:charge:", charge_id)


def charge_keys(source: str, charge_id: str) -> ChargeDocuments:
    """The invoice and payment keys Individual mode gives charge ``charge_id``."""
    stem = _charge_stem(source, charge_id)
    return ChargeDocuments(invoice_key=f"{stem}:invoice", payment_key=f"{stem}:payment")


def refund_keys(source: str, refund_id: str) -> tuple[str, str]:
    """The credit-note and credit-note-refund keys of refund ``refund_id``."""
    stem = fit_key(f"{source}:refund:", refund_id)
    return f"{stem}:credit_note", f"{stem}:credit_refund"


class IndividualMapper:
    """Per-transaction detail: every charge and refund gets documents of its own.

    Two options group what needs no per-charge detail (both off by default):
    ``fees=daily`` books the fees of a business day and fee currency as one expense, and
    ``payments=daily`` settles a business day's invoices of one currency with one payment
    (its ``invoices[]`` list names each). The planner hands a mapper one business day at a
    time, so a group is what one sync sees of a day: one per day for a day synced after it
    closed; a day synced while open gets a supplement (``:2``...) for what came later.
    """

    name: ClassVar[str] = SyncMode.INDIVIDUAL
    description: ClassVar[str] = (
        "One invoice and payment per charge (plus an expense for its fee), dated the "
        "charge's local date; one credit note and refund per refund."
    )

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        fees_daily = context.options.get("fees") == DAILY
        payments_daily = context.options.get("payments") == DAILY
        refunds: list[Refund] = []
        planned: dict[str, ChargeDocuments] = {}
        paid: dict[tuple[date, str], list[tuple[str, Charge]]] = {}
        fees: dict[tuple[date, str], list[Charge]] = {}
        for record in records:
            if not isinstance(record, Charge):
                refunds.append(record)
                continue
            documents = self._charge(record, context)
            day = documents[0].date
            yield documents[0]
            if payments_daily:
                paid.setdefault((day, record.currency), []).append((documents[0].key, record))
            else:
                yield documents[1]
                planned[record.source_id] = ChargeDocuments(documents[0].key, documents[1].key)
            if len(documents) > 2:
                if fees_daily:
                    fees.setdefault((day, record.fee_currency), []).append(record)
                else:
                    yield documents[2]
        emitted: set[str] = set()
        for (day, currency), invoices in sorted(paid.items()):
            for payment in daily_payments(day, currency, invoices, context, emitted):
                yield payment
                for charge_id, invoice_key in zip(
                    payment.record_ids, payment.invoice_keys, strict=True
                ):
                    planned[charge_id] = ChargeDocuments(invoice_key, payment.key)
        for (day, currency), charges in sorted(fees.items()):
            yield daily_fees(day, currency, charges, context, emitted)
        for refund in sorted(refunds, key=lambda r: (r.created_at, r.source_id)):
            original = context.charge_documents.get(refund.charge_id)
            if original is None:
                original = planned.get(refund.charge_id)
            if original is not None:  # otherwise its charge is not planned yet: it waits
                yield from self._refund(refund, original, context)

    @staticmethod
    def _charge(charge: Charge, context: MappingContext) -> tuple[Document, ...]:
        day = charge.created_at.astimezone(context.timezone).date()
        charge_id = charge.source_id
        stem = _charge_stem(context.source, charge_id)
        invoice_key = f"{stem}:invoice"
        ids = (charge_id,)
        invoice = Invoice(
            key=invoice_key,
            date=day,
            currency=charge.currency,
            amount=charge.amount,
            record_ids=ids,
            description=charge.description or f"Charge {charge_id}",
            exchange_rate=charge.exchange_rate,
        )
        payment = Payment(
            key=f"{stem}:payment",
            date=day,
            currency=charge.currency,
            amount=charge.amount,
            record_ids=ids,
            description=f"Payment of charge {charge_id}",
            invoice_key=invoice_key,
        )
        if not charge.fee:
            return invoice, payment
        expense = Expense(
            key=f"{stem}:expense",
            date=day,
            currency=charge.fee_currency,
            amount=charge.fee,
            record_ids=ids,
            description=f"Gateway fee of charge {charge_id}",
        )
        return invoice, payment, expense

    @staticmethod
    def _refund(
        refund: Refund, original: ChargeDocuments, context: MappingContext
    ) -> Iterator[Document]:
        day = local_date(refund.created_at, context.timezone)
        note_key, refund_key = refund_keys(context.source, refund.source_id)
        ids = (refund.source_id,)
        yield CreditNote(
            key=note_key,
            date=day,
            currency=refund.currency,
            amount=refund.amount,
            record_ids=ids,
            description=f"Refund {refund.source_id} of charge {refund.charge_id}",
            invoice_key=original.invoice_key,
            payment_key=original.payment_key,
        )
        yield CreditRefund(
            key=refund_key,
            date=day,
            currency=refund.currency,
            amount=refund.amount,
            record_ids=ids,
            description=f"Refund {refund.source_id} paid from the clearing account",
            credit_note_key=note_key,
            invoice_key=original.invoice_key,
        )
