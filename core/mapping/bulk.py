"""Bulk mode (the default): one summary per business-local day instead of one per charge.

Per closed local day and currency one invoice and its payment; per closed local day and fee
currency one expense; per (refund day, currency, original invoice) one credit note and its
refund. A day is planned only once it has closed in the connection's time zone; records of
an open day are left out and wait. A record that arrives for a day already planned gets a
supplementary document (``...:2``), never a rewrite of the first.

Memory holds one running total and the record ids of each group: nothing per record beyond
its id, which the document must carry anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar

from core.contracts import ChargeDocuments, MappingContext
from core.documents import CreditNote, CreditRefund, Document, Expense, Invoice, Payment
from core.mapping.keys import SEQUENCE_ROOM, fit_key, next_sequence, reference_of
from core.records import Charge, Record, Refund
from core.states import SyncMode

__all__ = ["BulkMapper"]


@dataclass(slots=True)
class _Group:
    """A running total and the ids of the records in it."""

    amount: Decimal = Decimal(0)
    ids: list[str] = field(default_factory=list)

    def add(self, amount: Decimal, record_id: str) -> None:
        self.amount += amount
        self.ids.append(record_id)

    def record_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.ids))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _supplement(sequence: int) -> str:
    return "" if sequence == 1 else f" (supplement {sequence})"


class BulkMapper:
    """Daily summaries per currency: few documents however many charges there are."""

    name: ClassVar[str] = SyncMode.BULK
    description: ClassVar[str] = (
        "Per business-local day and currency one invoice and payment, one expense per fee "
        "currency, one credit note per refund day and original invoice; days are planned "
        "once closed."
    )

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        zone = context.timezone
        today = context.now.astimezone(zone).date()
        sales: dict[tuple[date, str], _Group] = {}
        fees: dict[tuple[date, str], _Group] = {}
        refunds: list[Refund] = []
        for record in records:
            if not isinstance(record, Charge):
                refunds.append(record)
                continue
            day = record.created_at.astimezone(zone).date()
            if day >= today:
                continue  # the day is still open: the charge waits
            group = sales.get((day, record.currency))
            if group is None:
                group = sales[(day, record.currency)] = _Group()
            group.add(record.amount, record.source_id)
            if record.fee > 0:
                fee_group = fees.get((day, record.fee_currency))
                if fee_group is None:
                    fee_group = fees[(day, record.fee_currency)] = _Group()
                fee_group.add(record.fee, record.source_id)

        emitted: set[str] = set()
        planned_days: dict[tuple[date, str], ChargeDocuments] = {}
        for (day, currency), group in sorted(sales.items()):
            documents = self._sales(day, currency, group, context, emitted)
            planned_days[(day, currency)] = ChargeDocuments(documents[0].key, documents[1].key)
            yield from documents
        for (day, currency), group in sorted(fees.items()):
            yield self._fees(day, currency, group, context, emitted)
        if refunds:
            originals = _originals(refunds, sales, planned_days, context.charge_documents)
            yield from self._refunds(refunds, originals, today, context, emitted)

    @staticmethod
    def _sales(
        day: date, currency: str, group: _Group, context: MappingContext, emitted: set[str]
    ) -> tuple[Invoice, Payment]:
        stem = f"{context.source}:day:{day.isoformat()}:{currency}"
        sequence = next_sequence(stem, "invoice", context.taken_keys, emitted)
        invoice_key = f"{stem}:{sequence}:invoice"
        payment_key = f"{stem}:{sequence}:payment"
        emitted.update((invoice_key, payment_key))
        ids = group.record_ids()
        text = f"Sales of {day.isoformat()} in {currency}: {_plural(len(ids), 'charge')}"
        text += _supplement(sequence)
        invoice = Invoice(
            key=invoice_key,
            date=day,
            currency=currency,
            amount=group.amount,
            record_ids=ids,
            description=text,
        )
        payment = Payment(
            key=payment_key,
            date=day,
            currency=currency,
            amount=group.amount,
            record_ids=ids,
            description=f"Payments of {text[0].lower()}{text[1:]}",
            invoice_key=invoice_key,
        )
        return invoice, payment

    @staticmethod
    def _fees(
        day: date, currency: str, group: _Group, context: MappingContext, emitted: set[str]
    ) -> Expense:
        stem = f"{context.source}:day:{day.isoformat()}:fees:{currency}"
        sequence = next_sequence(stem, "expense", context.taken_keys, emitted)
        key = f"{stem}:{sequence}:expense"
        emitted.add(key)
        ids = group.record_ids()
        return Expense(
            key=key,
            date=day,
            currency=currency,
            amount=group.amount,
            record_ids=ids,
            description=f"Gateway fees of {day.isoformat()} in {currency}: "
            f"{_plural(len(ids), 'charge')}{_supplement(sequence)}",
        )

    @staticmethod
    def _refunds(
        refunds: list[Refund],
        originals: Mapping[str, ChargeDocuments],
        today: date,
        context: MappingContext,
        emitted: set[str],
    ) -> Iterator[Document]:
        groups: dict[tuple[date, str, ChargeDocuments], _Group] = {}
        for refund in refunds:
            original = originals.get(refund.charge_id)
            day = refund.created_at.astimezone(context.timezone).date()
            if original is None or day >= today:
                continue  # its charge is not planned yet, or its day is open: it waits
            group = groups.get((day, refund.currency, original))
            if group is None:
                group = groups[(day, refund.currency, original)] = _Group()
            group.add(refund.amount, refund.source_id)
        for (day, currency, original), group in sorted(groups.items(), key=_refund_order):
            head = f"{context.source}:day:{day.isoformat()}:refunds:{currency}:"
            reference = reference_of(original.invoice_key, context.source)
            stem = fit_key(head, reference, SEQUENCE_ROOM)
            sequence = next_sequence(stem, "credit_note", context.taken_keys, emitted)
            note_key = f"{stem}:{sequence}:credit_note"
            refund_key = f"{stem}:{sequence}:credit_refund"
            emitted.update((note_key, refund_key))
            ids = group.record_ids()
            text = (
                f"Refunds of {day.isoformat()} in {currency} against {original.invoice_key}: "
                f"{_plural(len(ids), 'refund')}{_supplement(sequence)}"
            )
            yield CreditNote(
                key=note_key,
                date=day,
                currency=currency,
                amount=group.amount,
                record_ids=ids,
                description=text,
                invoice_key=original.invoice_key,
                payment_key=original.payment_key,
            )
            yield CreditRefund(
                key=refund_key,
                date=day,
                currency=currency,
                amount=group.amount,
                record_ids=ids,
                description=f"{text}, paid from the clearing account",
                credit_note_key=note_key,
                invoice_key=original.invoice_key,
            )


def _refund_order(item: tuple[tuple[date, str, ChargeDocuments], _Group]) -> tuple[date, str, str]:
    (day, currency, original), _group = item
    return day, currency, original.invoice_key


def _originals(
    refunds: list[Refund],
    sales: Mapping[tuple[date, str], _Group],
    planned_days: Mapping[tuple[date, str], ChargeDocuments],
    earlier: Mapping[str, ChargeDocuments],
) -> dict[str, ChargeDocuments]:
    """The invoice and payment of each refunded charge: planned earlier or in this batch.

    Charges of this batch are found by scanning the day groups for the few ids refunds
    name, instead of remembering every charge's day.
    """
    originals: dict[str, ChargeDocuments] = {}
    wanted: set[str] = set()
    for refund in refunds:
        found = earlier.get(refund.charge_id)
        if found is not None:
            originals[refund.charge_id] = found
        else:
            wanted.add(refund.charge_id)
    if wanted:
        for day_currency, group in sales.items():
            for charge_id in wanted.intersection(group.ids):
                originals[charge_id] = planned_days[day_currency]
    return originals
