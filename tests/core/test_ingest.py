"""Storing fetched records: upsert by source id, raw payload kept as JSON, quarantine dedupe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from test_planning import MORNING, NEXT_DAY, charge, make_connection, refund

from core.host import Host
from core.mapping.bulk import BulkMapper
from core.records import Charge, Quarantined, Record, Refund
from core.store.models import QuarantinedRecord, SourceRecord
from core.sync.ingest import BATCH, IngestCounts, json_safe, store_items
from core.sync.planning import plan_connection

LATER = MORNING + timedelta(hours=5)


@pytest.fixture
def host(any_host: Host) -> Host:
    """These tests run on the embedded SQLite store and, when configured, on PostgreSQL."""
    return any_host


def ingest(
    host: Host, connection_id: int, items: list[Record | Quarantined], now: datetime = MORNING
) -> IngestCounts:
    with host.database.session() as session:
        return store_items(session, connection_id, items, now)


def stored(host: Host, connection_id: int) -> dict[tuple[str, str], SourceRecord]:
    with host.database.session() as session:
        rows = session.scalars(
            select(SourceRecord).where(SourceRecord.connection_id == connection_id)
        )
        return {(row.kind, row.source_id): row for row in rows}


def quarantine(host: Host, connection_id: int) -> list[QuarantinedRecord]:
    with host.database.session() as session:
        return list(
            session.scalars(
                select(QuarantinedRecord)
                .where(QuarantinedRecord.connection_id == connection_id)
                .order_by(QuarantinedRecord.id)
            )
        )


def test_new_records_are_inserted_and_records_read_again_update_without_duplicates(
    host: Host,
) -> None:
    cid = make_connection(host)
    first = ingest(host, cid, [charge("c1"), charge("c2"), refund("r1", "c1")])
    assert (first.new, first.updated, first.unchanged) == (3, 0, 0)
    again = ingest(
        host,
        cid,
        [charge("c1"), charge("c2", channel="shopify"), refund("r1", "c1", amount="41.00")],
        LATER,
    )
    assert (again.new, again.updated, again.unchanged) == (0, 2, 1)
    rows = stored(host, cid)
    assert len(rows) == 3
    assert rows[("charge", "c2")].channel == "shopify"
    assert rows[("charge", "c2")].fetched_at == LATER
    assert rows[("refund", "r1")].amount == Decimal("41.00")
    assert rows[("refund", "r1")].charge_id == "c1"
    assert rows[("charge", "c1")].fetched_at == MORNING  # unchanged rows are left alone


def test_a_charge_and_a_refund_may_share_a_source_id(host: Host) -> None:
    cid = make_connection(host)
    assert ingest(host, cid, [charge("x"), refund("x", "x")]).new == 2
    assert set(stored(host, cid)) == {("charge", "x"), ("refund", "x")}


def test_the_same_record_twice_in_one_batch_is_stored_once_last_reading_wins(host: Host) -> None:
    cid = make_connection(host)
    counts = ingest(host, cid, [charge("c1", amount="1.00"), charge("c1", amount="2.00")])
    assert counts.new == 1
    assert stored(host, cid)[("charge", "c1")].amount == Decimal("2.00")


def test_the_raw_payload_is_kept_as_json_with_decimals_as_text(host: Host) -> None:
    cid = make_connection(host)
    raw = {
        "id": "c1",
        "amount": Decimal("100.10"),
        "fees": [{"fixed": Decimal("0.50")}, {"rate": Decimal("0.034")}],
        "paid_at": datetime(2026, 3, 2, 2, tzinfo=UTC),
        "tags": ("a", "b"),
        "nothing": None,
        "count": 3,
        "ok": True,
    }
    record = Charge(
        source_id="c1",
        created_at=MORNING,
        currency="SGD",
        amount=Decimal("100.10"),
        fee=Decimal("0.50"),
        fee_currency="SGD",
        channel=None,
        raw=raw,
    )
    ingest(host, cid, [record])
    payload = stored(host, cid)[("charge", "c1")].payload
    assert payload == {
        "id": "c1",
        "amount": "100.10",
        "fees": [{"fixed": "0.50"}, {"rate": "0.034"}],
        "paid_at": "2026-03-02T02:00:00+00:00",
        "tags": ["a", "b"],
        "nothing": None,
        "count": 3,
        "ok": True,
    }
    assert json.loads(json.dumps(payload)) == payload
    assert json_safe(Decimal("1E+2")) == "1E+2"


def test_quarantined_payloads_are_kept_once_and_counted_each_time_seen(host: Host) -> None:
    cid = make_connection(host)
    bad = Quarantined(reason="amount 'abc' is not a number", payload={"id": "c9"}, source_id="c9")
    first = ingest(host, cid, [bad, charge("c1"), bad])
    assert (first.new, first.quarantined, first.quarantined_again) == (1, 1, 1)
    second = ingest(host, cid, [bad], LATER)
    assert (second.quarantined, second.quarantined_again) == (0, 1)
    [entry] = quarantine(host, cid)
    assert (entry.kind, entry.source_id, entry.reason) == ("charge", "c9", bad.reason)
    assert (entry.times_seen, entry.first_seen_at, entry.last_seen_at) == (3, MORNING, LATER)
    assert json.loads(entry.payload) == {"id": "c9"}
    other = Quarantined(reason="no currency", payload={"id": "c9"}, source_id="c9")
    assert ingest(host, cid, [other]).quarantined == 1  # another reason: another entry
    assert len(quarantine(host, cid)) == 2


def test_quarantined_payloads_without_an_id_are_told_apart_by_their_payload(host: Host) -> None:
    cid = make_connection(host)
    one = Quarantined(reason="charge has no id", payload={"amount": Decimal("1.00")})
    two = Quarantined(reason="charge has no id", payload={"amount": "2.00"})
    counts = ingest(host, cid, [one, two, one])
    assert (counts.quarantined, counts.quarantined_again) == (2, 1)
    entries = quarantine(host, cid)
    assert sorted(json.loads(e.payload)["amount"] for e in entries) == ["1.00", "2.00"]
    assert sorted(e.times_seen for e in entries) == [1, 2]


def test_a_record_readable_at_last_resolves_its_quarantine_entry(host: Host) -> None:
    cid = make_connection(host)
    ingest(host, cid, [Quarantined(reason="bad amount", payload={"id": "c1"}, source_id="c1")])
    ingest(host, cid, [charge("c1")], LATER)
    [entry] = quarantine(host, cid)
    assert entry.resolved_at == LATER


def test_money_changed_at_the_source_after_planning_is_quarantined_not_applied(
    host: Host,
) -> None:
    cid = make_connection(host)
    ingest(host, cid, [charge("c1", amount="100.00")])
    with host.database.session() as session:
        plan_connection(session, cid, BulkMapper(), NEXT_DAY)
    counts = ingest(host, cid, [charge("c1", amount="90.00", channel="shopify")], LATER)
    assert (counts.updated, counts.quarantined) == (1, 1)
    row = stored(host, cid)[("charge", "c1")]
    assert row.amount == Decimal("100.00")  # what the books were planned with
    assert row.channel == "shopify"  # harmless changes still apply
    [entry] = quarantine(host, cid)
    assert entry.source_id == "c1" and "amount is now 90.00" in entry.reason


def test_large_batches_are_stored_in_several_round_trips(host: Host) -> None:
    cid = make_connection(host)
    count = BATCH * 2 + 17
    start = datetime(2026, 3, 2, tzinfo=UTC)

    def items() -> list[Record | Quarantined]:
        made: list[Record | Quarantined] = []
        for n in range(count):
            made.append(charge(f"c{n}", start + timedelta(seconds=n)))
            if n % 10 == 0:
                made.append(refund(f"r{n}", f"c{n}", amount="1.00"))
        return made

    first = ingest(host, cid, items())
    assert first.new == count + (count + 9) // 10
    second = ingest(host, cid, items())
    assert (second.new, second.updated, second.unchanged) == (0, 0, first.new)
    with host.database.session() as session:
        total = session.scalar(select(func.count()).where(SourceRecord.connection_id == cid))
    assert total == first.new


def test_refund_rows_carry_their_charge(host: Host) -> None:
    cid = make_connection(host)
    ingest(host, cid, [Refund("r1", "c1", MORNING, "JPY", Decimal("500"))])
    row = stored(host, cid)[("refund", "r1")]
    assert (row.charge_id, row.currency, row.amount, row.fee) == ("c1", "JPY", Decimal(500), None)
