"""The outbox planner against a real SQLite store: eligibility, refunds, late arrivals, modes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from core.contracts import Mapper, MappingContext
from core.documents import Document, document_from_dict
from core.host import Host
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper
from core.reasons import OUTSIDE_SYNC_PERIODS, QUARANTINED, REFUND_OF_UNFETCHED_CHARGE
from core.records import Charge, Quarantined, Record, Refund
from core.store.models import (
    Assignment,
    Connection,
    DocumentRow,
    QuarantinedRecord,
    SourceRecord,
    SyncPeriod,
)
from core.sync.ingest import store_items
from core.sync.planning import (
    PlanningError,
    PlanOutcome,
    plan_connection,
)

ENABLED = datetime(2026, 3, 1, tzinfo=UTC)
# 10:00 in Singapore on 2 March; the day closes at 16:00 UTC.
MORNING = datetime(2026, 3, 2, 2, tzinfo=UTC)
NEXT_DAY = datetime(2026, 3, 3, 2, tzinfo=UTC)


@pytest.fixture
def host(any_host: Host) -> Host:
    """These tests run on the embedded SQLite store and, when configured, on PostgreSQL."""
    return any_host


def make_connection(
    host: Host,
    *,
    mode: str = "bulk",
    timezone: str = "Asia/Singapore",
    channels: list[str] | None = None,
    periods: Sequence[tuple[datetime, datetime | None]] = ((ENABLED, None),),
) -> int:
    with host.database.session() as session:
        row = Connection(
            name=f"shop-{uuid.uuid4().hex[:10]}",
            source="hitpay",
            created_at=ENABLED,
            source_config={},
            source_state={},
            destination_config={},
            settings={},
            notify_emails=[],
            timezone=timezone,
            mode=mode,
            channels=channels,
        )
        session.add(row)
        session.flush()
        for started, ended in periods:
            session.add(SyncPeriod(connection_id=row.id, started_at=started, ended_at=ended))
        return row.id


def charge(
    source_id: str,
    at: datetime = MORNING,
    amount: str = "100.00",
    *,
    fee: str = "3.50",
    currency: str = "SGD",
    channel: str | None = "payment_link",
    raw_channel: str | None = None,
) -> Charge:
    return Charge(
        source_id=source_id,
        created_at=at,
        currency=currency,
        amount=Decimal(amount),
        fee=Decimal(fee),
        fee_currency=currency,
        channel=channel,
        raw_channel=raw_channel or channel,
        raw={"id": source_id, "amount": Decimal(amount)},
    )


def refund(source_id: str, charge_id: str, at: datetime = MORNING, amount: str = "40.00") -> Refund:
    return Refund(
        source_id=source_id,
        charge_id=charge_id,
        created_at=at,
        currency="SGD",
        amount=Decimal(amount),
    )


def store(host: Host, connection_id: int, items: Iterable[Record | Quarantined]) -> None:
    with host.database.session() as session:
        store_items(session, connection_id, items, MORNING)


def plan(
    host: Host, connection_id: int, now: datetime, mapper: Mapper | None = None, **options: Any
) -> PlanOutcome:
    with host.database.session() as session:
        return plan_connection(session, connection_id, mapper or BulkMapper(), now, **options)


def documents(host: Host, connection_id: int) -> dict[str, DocumentRow]:
    with host.database.session() as session:
        rows = session.scalars(
            select(DocumentRow).where(DocumentRow.connection_id == connection_id)
        )
        return {row.key: row for row in rows}


def skip_reason(host: Host, connection_id: int, kind: str, source_id: str) -> str | None:
    with host.database.session() as session:
        return session.scalar(
            select(SourceRecord.skip_reason).where(
                SourceRecord.connection_id == connection_id,
                SourceRecord.kind == kind,
                SourceRecord.source_id == source_id,
            )
        )


def row_counts(host: Host) -> dict[str, int]:
    with host.database.session() as session:
        return {
            "documents": session.scalar(select(func.count()).select_from(DocumentRow)) or 0,
            "assignments": session.scalar(select(func.count()).select_from(Assignment)) or 0,
            "quarantine": session.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0,
            "skipped": session.scalar(
                select(func.count()).where(SourceRecord.skip_reason.is_not(None))
            )
            or 0,
        }


# ----------------------------------------------------------------------------- eligibility


def test_only_charges_created_inside_a_sync_period_are_planned(host: Host) -> None:
    paused, resumed = datetime(2026, 3, 2, 3, tzinfo=UTC), datetime(2026, 3, 2, 5, tzinfo=UTC)
    cid = make_connection(host, mode="individual", periods=[(ENABLED, paused), (resumed, None)])
    store(
        host,
        cid,
        [
            charge("before", ENABLED - timedelta(seconds=1)),
            charge("at-enable", ENABLED),
            charge("at-disable", paused),  # the period ended at this instant: outside
            charge("while-disabled", paused + timedelta(hours=1)),
            charge("at-resume", resumed),
        ],
    )
    outcome = plan(host, cid, NEXT_DAY, IndividualMapper())
    planned = {key for key in documents(host, cid) if key.endswith(":invoice")}
    assert planned == {"hitpay:charge:at-enable:invoice", "hitpay:charge:at-resume:invoice"}
    assert outcome.skipped == {OUTSIDE_SYNC_PERIODS: 3}
    for skipped in ("before", "at-disable", "while-disabled"):
        assert skip_reason(host, cid, "charge", skipped) == OUTSIDE_SYNC_PERIODS
    assert plan(host, cid, NEXT_DAY, IndividualMapper()).skipped == {}  # skipped for good


def test_a_charge_from_an_unselected_channel_is_skipped_naming_its_channel(host: Host) -> None:
    cid = make_connection(host, channels=["shopify", "payment_link"])
    store(host, cid, [charge("pos", channel="point_of_sale"), charge("link")])
    outcome = plan(host, cid, NEXT_DAY)
    reason = skip_reason(host, cid, "charge", "pos")
    assert reason is not None and "point_of_sale" in reason
    assert outcome.skipped == {reason: 1}
    invoice = documents(host, cid)["hitpay:day:2026-03-02:SGD:1:invoice"]
    assert invoice.body["record_ids"] == ["link"]


def test_an_unknown_channel_syncs_under_all_channels_and_is_counted(host: Host) -> None:
    cid = make_connection(host, channels=None)
    store(host, cid, [charge("odd", channel=None, raw_channel="tiktok_shop"), charge("link")])
    outcome = plan(host, cid, NEXT_DAY)
    assert outcome.unknown_channels == {"tiktok_shop": 1}
    assert outcome.unknown_channel == 1
    assert documents(host, cid)["hitpay:day:2026-03-02:SGD:1:invoice"].amount == Decimal("200.00")


def test_an_unknown_channel_is_not_synced_when_channels_are_chosen(host: Host) -> None:
    cid = make_connection(host, channels=["payment_link"])
    store(host, cid, [charge("odd", channel=None, raw_channel="tiktok_shop")])
    outcome = plan(host, cid, NEXT_DAY)
    reason = skip_reason(host, cid, "charge", "odd")
    assert reason is not None and "tiktok_shop" in reason
    assert outcome.total_documents == 0 and outcome.unknown_channels == {}


# ----------------------------------------------------------------------------- refunds


def test_a_refund_of_a_skipped_charge_is_skipped_with_the_charges_reason(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("old", ENABLED - timedelta(days=1)), refund("r1", "old")])
    outcome = plan(host, cid, NEXT_DAY)
    reason = skip_reason(host, cid, "refund", "r1")
    assert reason is not None and OUTSIDE_SYNC_PERIODS in reason and reason.startswith("refund")
    assert outcome.skipped == {OUTSIDE_SYNC_PERIODS: 1, reason: 1}
    assert documents(host, cid) == {}


def test_a_refund_of_a_charge_never_fetched_is_skipped_until_the_charge_arrives(
    host: Host,
) -> None:
    cid = make_connection(host, mode="individual")
    store(host, cid, [refund("r1", "late")])
    outcome = plan(host, cid, NEXT_DAY, IndividualMapper())
    assert outcome.skipped == {REFUND_OF_UNFETCHED_CHARGE: 1}
    assert skip_reason(host, cid, "refund", "r1") == REFUND_OF_UNFETCHED_CHARGE
    store(host, cid, [charge("late")])  # the charge turns up after all
    assert skip_reason(host, cid, "refund", "r1") is None
    plan(host, cid, NEXT_DAY, IndividualMapper())
    note = documents(host, cid)["hitpay:refund:r1:credit_note"]
    assert note.body["invoice_key"] == "hitpay:charge:late:invoice"


def test_a_refund_waits_while_its_bulk_day_is_open(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1"), refund("r1", "c1")])
    outcome = plan(host, cid, MORNING + timedelta(hours=1))
    assert outcome.total_documents == 0 and outcome.waiting == 2 and outcome.skipped == {}
    assert skip_reason(host, cid, "refund", "r1") is None
    outcome = plan(host, cid, NEXT_DAY)
    assert outcome.documents == {
        "invoice": 1,
        "payment": 1,
        "expense": 1,
        "credit_note": 1,
        "credit_refund": 1,
    }
    assert outcome.waiting == 0


def test_a_refund_planned_later_points_at_the_invoice_planned_earlier(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1")])
    plan(host, cid, NEXT_DAY)
    store(host, cid, [refund("r1", "c1", at=NEXT_DAY)])
    plan(host, cid, NEXT_DAY + timedelta(days=1))
    notes = [row for row in documents(host, cid).values() if row.kind == "credit_note"]
    assert len(notes) == 1
    assert notes[0].key.startswith("hitpay:day:2026-03-03:refunds:SGD:")
    assert notes[0].body["invoice_key"] == "hitpay:day:2026-03-02:SGD:1:invoice"
    assert notes[0].body["payment_key"] == "hitpay:day:2026-03-02:SGD:1:payment"


def test_a_refund_larger_than_what_remains_is_quarantined_and_never_planned(host: Host) -> None:
    cid = make_connection(host, mode="individual")
    store(host, cid, [charge("c1", amount="100.00"), refund("r1", "c1", amount="60.00")])
    plan(host, cid, NEXT_DAY, IndividualMapper())
    later = MORNING + timedelta(hours=2)
    store(host, cid, [refund("r2", "c1", at=later, amount="50.00")])  # only 40.00 is left
    outcome = plan(host, cid, NEXT_DAY, IndividualMapper())
    assert outcome.quarantined == 1 and outcome.total_documents == 0
    reason = skip_reason(host, cid, "refund", "r2")
    assert reason is not None and reason.startswith(QUARANTINED) and "40.00" in reason
    with host.database.session() as session:
        entry = session.scalars(select(QuarantinedRecord)).one()
        assert (entry.kind, entry.source_id) == ("refund", "r2")
        assert "exceeds" in entry.reason
    again = plan(host, cid, NEXT_DAY, IndividualMapper())
    assert again.quarantined == 0 and again.total_documents == 0
    assert "hitpay:refund:r2:credit_note" not in documents(host, cid)


def test_partial_refunds_in_one_batch_count_against_each_other(host: Host) -> None:
    cid = make_connection(host)
    store(
        host,
        cid,
        [
            charge("c1", amount="100.00"),
            refund("r1", "c1", at=MORNING + timedelta(minutes=1), amount="30.00"),
            refund("r2", "c1", at=MORNING + timedelta(minutes=2), amount="70.00"),
            refund("r3", "c1", at=MORNING + timedelta(minutes=3), amount="0.01"),
        ],
    )
    outcome = plan(host, cid, NEXT_DAY)
    assert outcome.quarantined == 1
    skipped = skip_reason(host, cid, "refund", "r3")
    assert skipped is not None and skipped.startswith(QUARANTINED)
    notes = [row for row in documents(host, cid).values() if row.kind == "credit_note"]
    assert [note.amount for note in notes] == [Decimal("100.00")]


def test_a_refund_in_another_currency_than_its_charge_is_quarantined(host: Host) -> None:
    cid = make_connection(host)
    usd = Refund(
        source_id="r1",
        charge_id="c1",
        created_at=MORNING,
        currency="USD",
        amount=Decimal("1.00"),
    )
    store(host, cid, [charge("c1"), usd])
    outcome = plan(host, cid, NEXT_DAY)
    assert outcome.quarantined == 1
    reason = skip_reason(host, cid, "refund", "r1")
    assert reason is not None and "USD" in reason and "SGD" in reason


# ----------------------------------------------------------------------------- bulk days, modes


def test_a_late_charge_for_a_planned_day_gets_a_supplementary_document(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1"), charge("c2")])
    plan(host, cid, NEXT_DAY)
    before = documents(host, cid)
    first = before["hitpay:day:2026-03-02:SGD:1:invoice"]
    store(host, cid, [charge("late", MORNING + timedelta(hours=3), "5.00", fee="0.00")])
    outcome = plan(host, cid, NEXT_DAY + timedelta(hours=1))
    after = documents(host, cid)
    assert outcome.documents == {"invoice": 1, "payment": 1}  # no fee, no expense
    supplement = after["hitpay:day:2026-03-02:SGD:2:invoice"]
    assert supplement.amount == Decimal("5.00") and supplement.body["record_ids"] == ["late"]
    assert after["hitpay:day:2026-03-02:SGD:2:payment"].body["invoice_key"] == supplement.key
    assert after[first.key].body == first.body and after[first.key].amount == Decimal("200.00")


def test_switching_mode_applies_to_records_not_yet_planned(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1")])
    plan(host, cid, NEXT_DAY, BulkMapper())
    bulk = documents(host, cid)
    store(host, cid, [charge("c2", NEXT_DAY), refund("r1", "c1", NEXT_DAY, "10.00")])
    plan(host, cid, NEXT_DAY + timedelta(hours=1), IndividualMapper())
    after = documents(host, cid)
    assert {k: (r.body, r.mode) for k, r in bulk.items()} == {
        k: (after[k].body, after[k].mode) for k in bulk
    }
    assert after["hitpay:charge:c2:invoice"].mode == "individual"
    note = after["hitpay:refund:r1:credit_note"]
    assert note.body["invoice_key"] == "hitpay:day:2026-03-02:SGD:1:invoice"


def test_documents_are_stored_as_planned_with_their_body_and_mode(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1"), charge("c2", amount="20.00", fee="0.00")])
    outcome = plan(host, cid, NEXT_DAY, run_id=7)
    rows = documents(host, cid)
    assert sorted(outcome.keys) == sorted(rows)
    for row in rows.values():
        assert (row.state, row.mode, row.run_id, row.planned_at) == ("planned", "bulk", 7, NEXT_DAY)
        document = document_from_dict(row.body)
        assert (document.key, document.amount, document.date) == (row.key, row.amount, row.doc_date)
    with host.database.session() as session:
        kinds = session.execute(
            select(SourceRecord.source_id, Assignment.kind).join(
                Assignment, Assignment.record_id == SourceRecord.id
            )
        ).all()
    assert sorted(kinds) == [
        ("c1", "expense"),
        ("c1", "invoice"),
        ("c1", "payment"),
        ("c2", "invoice"),
        ("c2", "payment"),
    ]


def test_planning_twice_plans_nothing_new(host: Host) -> None:
    cid = make_connection(host, mode="individual")
    store(host, cid, [charge("c1"), refund("r1", "c1")])
    assert plan(host, cid, NEXT_DAY, IndividualMapper()).total_documents == 5
    again = plan(host, cid, NEXT_DAY, IndividualMapper())
    assert (again.total_documents, again.waiting, again.skipped) == (0, 0, {})


# ----------------------------------------------------------------------------- dry run, atomicity


def test_a_dry_run_writes_nothing_and_shows_the_plan(host: Host) -> None:
    cid = make_connection(host, channels=["payment_link"])
    store(
        host,
        cid,
        [
            charge("c1"),
            charge("c2", NEXT_DAY),
            charge("pos", channel="point_of_sale"),
            refund("r1", "c1", NEXT_DAY, "60.00"),
            refund("r2", "c1", NEXT_DAY, "60.00"),  # more than is left: quarantined
            refund("r3", "pos", NEXT_DAY, "1.00"),  # of a charge skipped the day before
        ],
    )
    before = row_counts(host)
    later = NEXT_DAY + timedelta(days=1)
    dry = plan(host, cid, later, dry_run=True)
    assert row_counts(host) == before
    assert dry.dry_run and dry.quarantined == 1 and sum(dry.skipped.values()) == 2
    assert sorted(d.key for d in dry.planned) == sorted(dry.keys)
    real = plan(host, cid, later)
    assert (real.documents, real.skipped, real.quarantined) == (
        dry.documents,
        dry.skipped,
        dry.quarantined,
    )
    stored = documents(host, cid)
    assert {d.key: d.to_dict() for d in dry.planned} == {k: r.body for k, r in stored.items()}


class FailingMapper:
    """Plans the first day, then fails: nothing of the run may stay behind."""

    name: ClassVar[str] = "failing"
    description: ClassVar[str] = "fails on its second call"

    def __init__(self) -> None:
        self.calls = 0

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("mapper crashed")
        return IndividualMapper().plan(records, context)


def test_planning_is_one_transaction(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1"), charge("c2", NEXT_DAY), charge("old", ENABLED - timedelta(1))])
    before = row_counts(host)
    mapper = FailingMapper()
    with pytest.raises(RuntimeError, match="mapper crashed"):
        plan(host, cid, NEXT_DAY + timedelta(days=1), mapper)
    assert mapper.calls == 2  # the first day was planned, inside the rolled-back transaction
    assert row_counts(host) == before


class Trespasser:
    """Claims a record it was never given."""

    name: ClassVar[str] = "trespasser"
    description: ClassVar[str] = "covers a record that is not eligible"

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterator[Document]:
        for document in IndividualMapper().plan(records, context):
            yield dataclasses.replace(document, record_ids=("someone-else",))


def test_a_mapper_covering_a_record_it_was_not_given_is_refused(host: Host) -> None:
    cid = make_connection(host)
    store(host, cid, [charge("c1")])
    with pytest.raises(PlanningError, match="someone-else"):
        plan(host, cid, NEXT_DAY, Trespasser())
    assert row_counts(host)["documents"] == 0
