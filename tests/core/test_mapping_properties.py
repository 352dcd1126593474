"""The mapping invariants, as hypothesis properties, for Bulk and Individual alike.

Each property is a plain function of (mapper, scenario) that raises InvariantBroken, so the
last test can show that a mapper which drops a fee really does break one. These are pure (no
store) and run the profile's example count (500 in CI). The store-backed versions of the
multi-run properties are in test_planning_properties.py.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_mapping_strategies import (
    SOURCE,
    Scenario,
    arrivals,
    local_day,
    plan_in_runs,
    plan_once,
    scenarios,
)

from core.contracts import Mapper, MappingContext
from core.documents import MAX_KEY_LENGTH, CreditNote, CreditRefund, Document, Payment
from core.mapping.bulk import BulkMapper
from core.mapping.daily import DAILY
from core.mapping.individual import IndividualMapper
from core.mapping.invariants import (
    REFUND_KINDS,
    InvariantBroken,
    check_credit_notes_equal_refunds,
    check_every_record_assigned_once_per_kind,
    check_expenses_equal_fees,
    check_invoices_equal_payments_equal_charges,
    check_links_resolve,
    check_no_key_repeats,
    totals,
)
from core.money import quantize
from core.records import Charge, Record


class GroupedIndividual:
    """Individual mode with the connection's grouping options (``--fees daily``,
    ``--payments daily``) set, as the planner hands them over in the context."""

    description: ClassVar[str] = "Individual mode with daily groupings"

    def __init__(self, **options: str) -> None:
        self.options = options
        self.name = "individual+" + "+".join(f"{k}-{v}" for k, v in sorted(options.items()))

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        grouped = dataclasses.replace(context, options=self.options)
        return IndividualMapper().plan(records, grouped)


MAPPERS: list[Mapper] = [
    BulkMapper(),
    IndividualMapper(),
    GroupedIndividual(fees=DAILY),  # type: ignore[list-item]
    GroupedIndividual(fees=DAILY, payments=DAILY),  # type: ignore[list-item]
]
modes = pytest.mark.parametrize("mapper", MAPPERS, ids=lambda m: m.name)

# ----------------------------------------------------------------------------- the properties


def invoices_equal_payments_equal_eligible_charges(mapper: Mapper, scenario: Scenario) -> None:
    check_invoices_equal_payments_equal_charges(scenario.charges, plan_once(mapper, scenario))


def expenses_equal_fees_per_fee_currency(mapper: Mapper, scenario: Scenario) -> None:
    check_expenses_equal_fees(scenario.charges, plan_once(mapper, scenario))


def credit_notes_equal_credit_refunds_equal_eligible_refunds(
    mapper: Mapper, scenario: Scenario
) -> None:
    check_credit_notes_equal_refunds(scenario.refunds, plan_once(mapper, scenario))


def no_key_repeats(mapper: Mapper, scenario: Scenario) -> None:
    documents = plan_once(mapper, scenario)
    check_no_key_repeats(documents)
    for document in documents:
        if len(document.key) > MAX_KEY_LENGTH or not document.key.startswith(f"{SOURCE}:"):
            raise InvariantBroken(f"key {document.key!r} is too long or not prefixed")


def no_key_is_a_prefix_of_another(mapper: Mapper, scenario: Scenario) -> None:
    """A destination's look-up by key may match by prefix or "contains" (Zoho's
    ``reference_number`` filter, issue 13); in sorted order a key that prefixes another sits
    right before one that starts with it."""
    keys = sorted(document.key for document in plan_once(mapper, scenario))
    for shorter, longer in itertools.pairwise(keys):
        if longer.startswith(shorter):
            raise InvariantBroken(f"key {shorter!r} is a prefix of {longer!r}")


def every_eligible_record_assigned_once_per_kind(mapper: Mapper, scenario: Scenario) -> None:
    documents = plan_once(mapper, scenario)
    check_every_record_assigned_once_per_kind(scenario.records, documents)
    check_links_resolve(documents)


def result_does_not_depend_on_input_order(
    mapper: Mapper, scenario: Scenario, shuffled: list[Record]
) -> None:
    reordered = dataclasses.replace(
        scenario,
        charges=tuple(r for r in shuffled if isinstance(r, Charge)),
        refunds=tuple(r for r in shuffled if not isinstance(r, Charge)),
    )
    first = plan_once(mapper, scenario)
    # The same records interleaved differently (refunds before their charges, say).
    second = list(mapper.plan(shuffled, _context(scenario)))
    third = plan_once(mapper, reordered)
    if not (_by_key(first) == _by_key(second) == _by_key(third)):
        raise InvariantBroken("the plan changed with the order of its input")


def planning_twice_plans_nothing_new(mapper: Mapper, scenario: Scenario, now: datetime) -> None:
    ledger = plan_in_runs(mapper, scenario.zone, [(scenario.records, now)])
    again = ledger.plan(mapper, scenario.zone, now)
    if again:
        raise InvariantBroken(f"a second plan at the same moment added {len(again)} documents")
    ledger.plan(mapper, scenario.zone, scenario.after)
    if ledger.pending or ledger.plan(mapper, scenario.zone, scenario.after + timedelta(days=9)):
        raise InvariantBroken("records left over or planned again after every day closed")


def splitting_across_runs_gives_the_same_totals(
    mapper: Mapper, scenario: Scenario, batches: list[tuple[list[Record], datetime]]
) -> None:
    ledger = plan_in_runs(mapper, scenario.zone, batches)
    if ledger.pending:
        raise InvariantBroken(f"{len(ledger.pending)} records never planned")
    if totals(ledger.documents) != totals(plan_once(mapper, scenario)):
        raise InvariantBroken("totals differ between one run and several")
    check_no_key_repeats(ledger.documents)
    check_every_record_assigned_once_per_kind(scenario.records, ledger.documents)
    check_links_resolve(ledger.documents)


def _context(scenario: Scenario) -> MappingContext:
    from test_mapping_strategies import context_for

    return context_for(scenario.zone, scenario.after)


def _by_key(documents: Iterable[Document]) -> list[Document]:
    return sorted(documents, key=lambda d: d.key)


# ----------------------------------------------------------------------------- as tests


@modes
@given(scenario=scenarios())
def test_per_currency_invoices_equal_payments_equal_eligible_charges(
    mapper: Mapper, scenario: Scenario
) -> None:
    invoices_equal_payments_equal_eligible_charges(mapper, scenario)


@modes
@given(scenario=scenarios())
def test_per_fee_currency_expenses_equal_fees(mapper: Mapper, scenario: Scenario) -> None:
    expenses_equal_fees_per_fee_currency(mapper, scenario)


@modes
@given(scenario=scenarios())
def test_credit_notes_equal_credit_refunds_equal_eligible_refunds(
    mapper: Mapper, scenario: Scenario
) -> None:
    credit_notes_equal_credit_refunds_equal_eligible_refunds(mapper, scenario)


@modes
@given(scenario=scenarios())
def test_no_key_repeats(mapper: Mapper, scenario: Scenario) -> None:
    no_key_repeats(mapper, scenario)


@modes
@given(scenario=scenarios())
def test_no_key_is_a_prefix_of_another(mapper: Mapper, scenario: Scenario) -> None:
    no_key_is_a_prefix_of_another(mapper, scenario)


@modes
@given(scenario=scenarios())
def test_every_eligible_record_is_assigned_to_exactly_one_document_per_kind(
    mapper: Mapper, scenario: Scenario
) -> None:
    every_eligible_record_assigned_once_per_kind(mapper, scenario)


@modes
@given(data=st.data())
def test_the_result_does_not_depend_on_input_order(mapper: Mapper, data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    shuffled = data.draw(st.permutations(scenario.records))
    result_does_not_depend_on_input_order(mapper, scenario, list(shuffled))


@modes
@given(data=st.data())
def test_planning_twice_plans_nothing_new(mapper: Mapper, data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    span = int((scenario.after - scenario.start).total_seconds())
    now = scenario.start + timedelta(seconds=data.draw(st.integers(0, span)))
    planning_twice_plans_nothing_new(mapper, scenario, now)


@modes
@given(data=st.data())
def test_splitting_records_across_runs_gives_the_same_totals(
    mapper: Mapper, data: st.DataObject
) -> None:
    scenario = data.draw(scenarios())
    splitting_across_runs_gives_the_same_totals(mapper, scenario, data.draw(arrivals(scenario)))


# ----------------------------------------------------------------------------- dates and links


@modes
@given(scenario=scenarios())
def test_documents_are_dated_their_records_business_local_date(
    mapper: Mapper, scenario: Scenario
) -> None:
    by_id = {(r.kind, r.source_id): r for r in scenario.records}
    for document in plan_once(mapper, scenario):
        kind = "refund" if document.kind in REFUND_KINDS else "charge"
        for record_id in document.record_ids:
            record = by_id[(kind, record_id)]
            assert local_day(record.created_at, scenario.zone) == document.date, document.key


@modes
@given(scenario=scenarios())
def test_credit_notes_point_at_their_charges_invoice_and_payment(
    mapper: Mapper, scenario: Scenario
) -> None:
    documents = plan_once(mapper, scenario)
    invoice_of = {}
    payment_of = {k: d.key for d in documents if isinstance(d, Payment) for k in d.depends_on}
    for document in documents:
        if document.kind.value == "invoice":
            invoice_of.update(dict.fromkeys(document.record_ids, document.key))
    charge_of = {r.source_id: r.charge_id for r in scenario.refunds}
    notes = {d.key: d for d in documents if isinstance(d, CreditNote)}
    for document in documents:
        if isinstance(document, CreditNote):
            for refund_id in document.record_ids:
                assert document.invoice_key == invoice_of[charge_of[refund_id]]
            assert document.payment_key == payment_of[document.invoice_key]
        if isinstance(document, CreditRefund):
            note = notes[document.credit_note_key]
            assert (document.invoice_key, document.amount) == (note.invoice_key, note.amount)


@given(data=st.data())
def test_bulk_plans_a_day_only_once_it_has_closed(data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    span = int((scenario.after - scenario.start).total_seconds())
    now = scenario.start + timedelta(seconds=data.draw(st.integers(0, span)))
    today = local_day(now, scenario.zone)
    documents = plan_once(BulkMapper(), scenario, now)
    assert all(document.date < today for document in documents)
    invoiced = {i for d in documents if d.kind.value == "invoice" for i in d.record_ids}
    for charge in scenario.charges:
        closed = local_day(charge.created_at, scenario.zone) < today
        assert (charge.source_id in invoiced) == closed


@given(scenario=scenarios())
def test_bulk_makes_one_invoice_per_local_day_and_currency(scenario: Scenario) -> None:
    documents = plan_once(BulkMapper(), scenario)
    days = {(local_day(c.created_at, scenario.zone), c.currency) for c in scenario.charges}
    invoices = [(d.date, d.currency) for d in documents if d.kind.value == "invoice"]
    assert sorted(invoices) == sorted(days)
    assert all(d.key.endswith(":1:" + d.kind.value) for d in documents)


# ----------------------------------------------------------------------------- a broken mapper


class FeeDroppingMapper:
    """Bulk mode, except that it forgets the fee of the first charge that has one."""

    name: ClassVar[str] = "fee-dropping"
    description: ClassVar[str] = "a deliberately broken mapper"

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        changed: list[Record] = []
        dropped = False
        for record in records:
            if isinstance(record, Charge) and record.fee > 0 and not dropped:
                record = dataclasses.replace(record, fee=quantize(Decimal(0), record.fee_currency))
                dropped = True
            changed.append(record)
        return BulkMapper().plan(changed, context)


@given(scenario=scenarios())
def test_a_mapper_that_drops_a_fee_breaks_the_fee_property(scenario: Scenario) -> None:
    assume(any(charge.fee > 0 for charge in scenario.charges))  # else nothing to drop
    with pytest.raises(InvariantBroken, match="fees per currency"):
        expenses_equal_fees_per_fee_currency(FeeDroppingMapper(), scenario)
    with pytest.raises(InvariantBroken, match="missing"):
        every_eligible_record_assigned_once_per_kind(FeeDroppingMapper(), scenario)
    splitting_ok = True
    try:
        expenses_equal_fees_per_fee_currency(BulkMapper(), scenario)
    except InvariantBroken:
        splitting_ok = False
    assert splitting_ok, "the real mapper must pass where the broken one fails"


# ----------------------------------------------------------------------------- daily groupings


@given(scenario=scenarios())
def test_daily_groupings_make_one_payment_and_one_fee_expense_per_day_and_currency(
    scenario: Scenario,
) -> None:
    """Individual mode with both options, planned once: an invoice per charge, and per
    business-local day one payment per currency (applied to exactly that day's invoices, each
    its charge's amount) and one expense per fee currency."""
    documents = plan_once(GroupedIndividual(fees=DAILY, payments=DAILY), scenario)
    zone = scenario.zone
    invoices = {d.record_ids[0]: d for d in documents if d.kind.value == "invoice"}
    assert sorted(invoices) == sorted(c.source_id for c in scenario.charges)
    payments = [d for d in documents if isinstance(d, Payment)]
    days = {(local_day(c.created_at, zone), c.currency) for c in scenario.charges}
    assert sorted((p.date, p.currency) for p in payments) == sorted(days)
    for payment in payments:
        assert payment.invoice_keys == tuple(invoices[i].key for i in payment.record_ids)
        assert payment.applied_amounts == tuple(invoices[i].amount for i in payment.record_ids)
    fee_days = {
        (local_day(c.created_at, zone), c.fee_currency) for c in scenario.charges if c.fee > 0
    }
    expenses = [(d.date, d.currency) for d in documents if d.kind.value == "expense"]
    assert sorted(expenses) == sorted(fee_days)
