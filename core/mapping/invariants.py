"""The accounting invariants every mapper keeps, as checks a test (or a plugin's) can call.

Each check takes the records that should have been planned and the documents a mapper
produced, and raises :class:`InvariantBroken` naming what does not tie out. They hold for any
mapper, built-in or third-party, so mapper plugins can run them in their own tests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from core.documents import Document, DocumentKind
from core.records import Charge, Record, Refund

__all__ = [
    "CHARGE_KINDS",
    "REFUND_KINDS",
    "InvariantBroken",
    "check_credit_notes_equal_refunds",
    "check_every_record_assigned_once_per_kind",
    "check_expenses_equal_fees",
    "check_invoices_equal_payments_equal_charges",
    "check_links_resolve",
    "check_no_key_repeats",
    "totals",
]

CHARGE_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.PAYMENT, DocumentKind.EXPENSE})
REFUND_KINDS = frozenset({DocumentKind.CREDIT_NOTE, DocumentKind.CREDIT_REFUND})


class InvariantBroken(AssertionError):
    """Planned documents do not tie out with the records they cover."""


Totals = dict[tuple[str, str], Decimal]


def totals(documents: Iterable[Document]) -> Totals:
    """Σ amount per (document kind, currency)."""
    result: Totals = defaultdict(Decimal)
    for document in documents:
        result[(document.kind.value, document.currency)] += document.amount
    return dict(result)


def _per_currency(totals_: Mapping[tuple[str, str], Decimal], kind: str) -> dict[str, Decimal]:
    return {currency: amount for (name, currency), amount in totals_.items() if name == kind}


def _sum_by(pairs: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    result: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in pairs:
        if amount:
            result[currency] += amount
    return dict(result)


def _expect_equal(
    what: str, expected: Mapping[str, Decimal], **found: Mapping[str, Decimal]
) -> None:
    for name, actual in found.items():
        if dict(actual) != dict(expected):
            raise InvariantBroken(f"{what}: {name} {dict(actual)} != {dict(expected)}")


def check_invoices_equal_payments_equal_charges(
    charges: Iterable[Charge], documents: Sequence[Document]
) -> None:
    """Per currency, Σ invoices = Σ payments = Σ charge amounts."""
    made = totals(documents)
    expected = _sum_by((charge.currency, charge.amount) for charge in charges)
    _expect_equal(
        "sales per currency",
        expected,
        invoices=_per_currency(made, DocumentKind.INVOICE),
        payments=_per_currency(made, DocumentKind.PAYMENT),
    )


def check_expenses_equal_fees(charges: Iterable[Charge], documents: Sequence[Document]) -> None:
    """Per fee currency, Σ expenses = Σ fees."""
    expected = _sum_by((charge.fee_currency, charge.fee) for charge in charges)
    _expect_equal(
        "fees per currency",
        expected,
        expenses=_per_currency(totals(documents), DocumentKind.EXPENSE),
    )


def check_credit_notes_equal_refunds(
    refunds: Iterable[Refund], documents: Sequence[Document]
) -> None:
    """Per currency, Σ credit notes = Σ credit-note refunds = Σ refund amounts."""
    made = totals(documents)
    expected = _sum_by((refund.currency, refund.amount) for refund in refunds)
    _expect_equal(
        "refunds per currency",
        expected,
        credit_notes=_per_currency(made, DocumentKind.CREDIT_NOTE),
        credit_refunds=_per_currency(made, DocumentKind.CREDIT_REFUND),
    )


def check_no_key_repeats(documents: Iterable[Document], earlier: Iterable[str] = ()) -> None:
    """No two documents (of this plan and of ``earlier`` plans) share a key."""
    counts = Counter(document.key for document in documents)
    counts.update(earlier)
    repeated = sorted(key for key, count in counts.items() if count > 1)
    if repeated:
        raise InvariantBroken(f"keys planned more than once: {repeated[:5]}")


def _expected_kinds(record: Record) -> set[DocumentKind]:
    if isinstance(record, Refund):
        return set(REFUND_KINDS)
    kinds = {DocumentKind.INVOICE, DocumentKind.PAYMENT}
    if record.fee > 0:
        kinds.add(DocumentKind.EXPENSE)
    return kinds


def check_every_record_assigned_once_per_kind(
    records: Iterable[Record], documents: Sequence[Document]
) -> None:
    """Each charge is in exactly one invoice, one payment and (fee > 0) one expense; each
    refund in exactly one credit note and one credit-note refund; nothing else is covered."""
    seen: Counter[tuple[str, str, DocumentKind]] = Counter()
    for document in documents:
        record_kind = "refund" if document.kind in REFUND_KINDS else "charge"
        for record_id in document.record_ids:
            seen[(record_kind, record_id, document.kind)] += 1
    expected = {
        (record.kind, record.source_id, kind)
        for record in records
        for kind in _expected_kinds(record)
    }
    twice = sorted(str(item) for item, count in seen.items() if count > 1)
    if twice:
        raise InvariantBroken(f"records in more than one document of a kind: {twice[:5]}")
    missing = sorted(str(item) for item in expected - seen.keys())
    if missing:
        raise InvariantBroken(f"records missing from a document kind: {missing[:5]}")
    extra = sorted(str(item) for item in seen.keys() - expected)
    if extra:
        raise InvariantBroken(f"documents cover records they should not: {extra[:5]}")


def check_links_resolve(documents: Sequence[Document], earlier: Iterable[str] = ()) -> None:
    """Every key a document depends on is planned, now or earlier."""
    known = {document.key for document in documents}
    known.update(earlier)
    for document in documents:
        for key in document.depends_on:
            if key not in known:
                raise InvariantBroken(f"{document.key} depends on unplanned {key}")
