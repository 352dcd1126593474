"""The planner's driver-level paths: records read back exactly, documents and assignments
written exactly, on every configured database.

The planner reads rows as the driver returns them and writes documents in multi-row
statements with values bound by hand; these tests hold what it reads and writes equal to what
the ORM would have read and written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from test_planning import MORNING, NEXT_DAY, charge, make_connection, plan, refund, store

from core.contracts import Mapper, MappingContext
from core.documents import (
    CreditNote,
    CreditRefund,
    Document,
    Expense,
    Invoice,
    Payment,
    document_from_dict,
)
from core.host import Host
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper
from core.records import Charge, Record
from core.store.models import Assignment, DocumentRow, SourceRecord
from core.store.outbox import body_text


@pytest.fixture
def host(any_host: Host) -> Host:
    """These tests run on the embedded SQLite store and, when configured, on PostgreSQL."""
    return any_host


class Recording:
    """Wraps a mapper and keeps the records it was given and the documents it planned."""

    name: ClassVar[str] = "recording"
    description: ClassVar[str] = "records what passes through"

    def __init__(self, mapper: Mapper) -> None:
        self.mapper = mapper
        self.records: list[Record] = []
        self.documents: list[Document] = []

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        given = list(records)
        self.records.extend(given)
        for document in self.mapper.plan(given, context):
            self.documents.append(document)
            yield document


def recording(mapper: Mapper) -> Recording:
    """A Recording named as ``mapper``, so documents are stored under its mode."""
    named: type[Recording] = type(
        f"Recording{mapper.name.title()}", (Recording,), {"name": mapper.name}
    )
    return named(mapper)


def _stored(host: Host, connection_id: int) -> dict[str, DocumentRow]:
    with host.database.session() as session:
        rows = session.scalars(
            select(DocumentRow).where(DocumentRow.connection_id == connection_id)
        )
        return {row.key: row for row in rows}


def _assignments(host: Host, connection_id: int) -> set[tuple[str, str, str]]:
    with host.database.session() as session:
        rows = session.execute(
            select(DocumentRow.key, SourceRecord.source_id, Assignment.kind)
            .join(Assignment, Assignment.document_id == DocumentRow.id)
            .join(SourceRecord, SourceRecord.id == Assignment.record_id)
            .where(DocumentRow.connection_id == connection_id)
        ).all()
    return {(key, source_id, kind) for key, source_id, kind in rows}


def test_records_reach_the_mapper_exactly_as_they_were_stored(host: Host) -> None:
    cid = make_connection(host, mode="individual")
    given: list[Record] = [
        charge("c1", MORNING + timedelta(microseconds=123_456), "100.10"),
        charge("c2", MORNING, "2500", currency="JPY", fee="0"),
        charge("c3", MORNING, "7.00", channel=None, raw_channel="kiosk"),
        Charge(
            source_id="c4",
            created_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
            currency="USD",
            amount=Decimal("12.30"),
            fee=Decimal("0.72"),
            fee_currency="SGD",
            channel="shopify",
            raw_channel="Shopify POS",
            description='Order "42" — café',
            exchange_rate=Decimal("1.3456"),
        ),
        refund("r1", "c1", MORNING + timedelta(hours=1), "0.10"),
    ]
    store(host, cid, given)
    mapper = recording(IndividualMapper())
    plan(host, cid, NEXT_DAY, mapper)
    seen = {(record.kind, record.source_id): record for record in mapper.records}
    assert seen == {(record.kind, record.source_id): record for record in given}
    for record in mapper.records:
        original = next(
            r for r in given if (r.kind, r.source_id) == (record.kind, record.source_id)
        )
        assert record.created_at.tzinfo is UTC
        assert str(record.amount) == str(original.amount)  # the same exponent, not just value
        assert record.raw == {}


def test_many_documents_and_large_groups_are_written_exactly(host: Host) -> None:
    """More documents than one multi-row statement holds (Individual) and documents covering
    hundreds of records (Bulk) land with the right bodies, columns and assignments."""
    charges = [
        charge(f"c{n:04d}", MORNING + timedelta(seconds=n), f"{n + 1}.25", fee="0.50")
        for n in range(300)
    ]
    refunds = [refund(f"r{n:04d}", f"c{n:04d}", NEXT_DAY, "1.00") for n in range(0, 300, 7)]
    later = NEXT_DAY + timedelta(days=1)
    for mapper in (IndividualMapper(), BulkMapper()):
        cid = make_connection(host, mode=mapper.name)
        store(host, cid, [*charges, *refunds])
        recorder = recording(mapper)
        outcome = plan(host, cid, later, recorder, run_id=3)
        stored = _stored(host, cid)
        assert outcome.total_documents == len(stored) == len(recorder.documents)
        expected: set[tuple[str, str, str]] = set()
        for document in recorder.documents:
            row = stored[document.key]
            assert row.body == document.to_dict()
            assert document_from_dict(row.body) == document
            assert (row.kind, row.mode, row.doc_date, row.currency, row.amount) == (
                document.kind.value,
                mapper.name,
                document.date,
                document.currency,
                document.amount,
            )
            assert str(row.amount) == str(document.amount)
            assert (row.state, row.attempts, row.run_id, row.planned_at) == (
                "planned",
                0,
                3,
                later,
            )
            expected.update((document.key, rid, document.kind.value) for rid in document.record_ids)
        assert _assignments(host, cid) == expected
        assert len(expected) == 300 * 3 + len(refunds) * 2


_text = st.text(min_size=0, max_size=30)
_ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4).map(tuple)
_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


def _common(**more: Any) -> Any:
    return st.fixed_dictionaries(
        {
            "key": st.text(min_size=1, max_size=100),
            "date": _dates,
            "currency": st.just("SGD"),
            "amount": _amounts,
            "record_ids": _ids,
            "description": _text,
            **more,
        }
    )


def _day_payment(values: dict[str, Any]) -> Payment:
    """A payment settling several invoices (--payments daily): the amount split over them."""
    keys = tuple(values.pop("invoice_keys"))
    total = values["amount"]
    parts = [Decimal("0.01")] * (len(keys) - 1)
    applied = (*parts, total - sum(parts, Decimal(0)))
    if applied[-1] <= 0:
        keys, applied = keys[:1], (total,)
    return Payment(**values, invoice_key=keys[0], invoice_keys=keys, applied_amounts=applied)


documents = st.one_of(
    _common(exchange_rate=st.none() | st.decimals(places=6, min_value=0, max_value=1000)).map(
        lambda values: Invoice(**values)
    ),
    _common(invoice_key=_text).map(lambda values: Payment(**values)),
    _common(invoice_keys=st.lists(_text, min_size=1, max_size=3, unique=True)).map(_day_payment),
    _common().map(lambda values: Expense(**values)),
    _common(invoice_key=_text, payment_key=_text).map(lambda values: CreditNote(**values)),
    _common(credit_note_key=_text, invoice_key=_text).map(lambda values: CreditRefund(**values)),
)


@dataclass(frozen=True, slots=True)
class TaggedInvoice(Invoice):
    """A kind the planner has no dedicated writer for: written field by field."""

    tag: str = ""
    when: datetime | None = None


@given(documents, _text, st.none() | st.datetimes(timezones=st.just(UTC)))
def test_a_body_is_written_exactly_as_json_dumps_writes_the_documents_dict(
    document: Document, tag: str, when: datetime | None
) -> None:
    assert body_text(document) == json.dumps(document.to_dict())
    fields = {name: getattr(document, name) for name in ("key", "date", "currency", "amount")}
    other = TaggedInvoice(**fields, record_ids=document.record_ids, tag=tag, when=when)
    assert body_text(other) == json.dumps(other.to_dict())
    # A value of another type than declared takes the field-by-field writer too.
    odd = dataclasses.replace(document, date=datetime.combine(document.date, time(12)))
    assert body_text(odd) == json.dumps(odd.to_dict())
