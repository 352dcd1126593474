"""Statements straight to the driver (core/store/driver.py): values bound and read back exactly
as the column types would, and the same results whatever parameter style the driver takes."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Connection
from test_planning import MORNING, NEXT_DAY, charge, make_connection, refund

import core.store.driver as driver
from core.host import Host
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper
from core.reasons import REFUND_OF_UNFETCHED_CHARGE
from core.records import Quarantined
from core.store.driver import (
    DriverSql,
    binder,
    collection_paused,
    read_json,
    read_moment,
    read_money,
)
from core.store.models import Base, DocumentRow, QuarantinedRecord, SourceRecord
from core.sync.ingest import json_safe, store_items
from core.sync.planning import plan_connection

_RECORDS = Base.metadata.tables["source_records"]


@pytest.fixture
def host(any_host: Host) -> Host:
    """These tests run on the embedded SQLite store and, when configured, on PostgreSQL."""
    return any_host


@pytest.fixture(scope="module")
def sqlite() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _type_processor(column: Any, connection: Connection) -> Any:
    dialect = connection.dialect
    return column.type.dialect_impl(dialect).bind_processor(dialect)


moments = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31)).flatmap(
    lambda naive: st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    )
)


@given(moments)
def test_a_timestamp_is_bound_as_the_column_type_binds_it(
    sqlite: Connection, moment: datetime
) -> None:
    column = _RECORDS.c.created_at
    bound = binder(column, sqlite)(moment)
    assert bound == _type_processor(column, sqlite)(moment)
    assert read_moment(bound) == moment and read_moment(bound).tzinfo is UTC


def test_a_naive_timestamp_is_refused_as_the_column_type_refuses_it(sqlite: Connection) -> None:
    with pytest.raises(ValueError, match="naive"):
        binder(_RECORDS.c.created_at, sqlite)(datetime(2026, 3, 2, 10))


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.none())
def test_an_amount_is_bound_as_the_column_type_binds_it(
    sqlite: Connection, amount: Decimal | None
) -> None:
    column = _RECORDS.c.amount
    bound = binder(column, sqlite)(amount)
    assert bound == _type_processor(column, sqlite)(amount)
    if amount is not None:
        assert read_money(bound) == amount


def test_an_amount_that_is_not_a_decimal_is_refused_as_the_column_type_refuses_it(
    sqlite: Connection,
) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        binder(_RECORDS.c.amount, sqlite)(1.5)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_a_json_payload_is_bound_as_the_column_type_binds_it(
    sqlite: Connection, payload: dict[str, Any]
) -> None:
    column = _RECORDS.c.payload
    bound = binder(column, sqlite)(payload)
    assert bound == _type_processor(column, sqlite)(payload) == json.dumps(payload)
    assert read_json(bound) == payload


def test_values_json_cannot_hold_are_refused_as_json_dumps_refuses_them(
    sqlite: Connection,
) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        binder(_RECORDS.c.payload, sqlite)({"amount": Decimal("1.50")})


def test_amounts_read_back_keep_their_exponent() -> None:
    assert str(read_money("100.10")) == "100.10"
    assert str(read_money(Decimal("2500"))) == "2500"
    assert read_money(7) == Decimal(7)


def _reference_json_safe(value: Any) -> Any:
    """json_safe as first written, before its fast paths."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _reference_json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_reference_json_safe(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


raw_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.decimals(allow_nan=False)
    | st.floats(allow_nan=False)
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), inner, max_size=3)
    ),
    max_leaves=15,
)


@given(raw_values)
def test_json_safe_gives_what_it_always_gave(value: Any) -> None:
    assert json.dumps(json_safe(value)) == json.dumps(_reference_json_safe(value))


# ----------------------------------------------------------------------------- parameter styles


@pytest.fixture(params=["positional", "named"])
def style(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every driver statement as the driver's own markers, or through text() with names (the
    way a driver without positional markers is served)."""
    if request.param == "named":
        monkeypatch.setattr(driver, "_MARKERS", {})
    return str(request.param)


def _skip_reason(host: Host, connection_id: int, source_id: str) -> str | None:
    with host.database.session() as session:
        return session.scalar(
            select(SourceRecord.skip_reason).where(
                SourceRecord.connection_id == connection_id, SourceRecord.source_id == source_id
            )
        )


def test_a_sync_stores_and_plans_the_same_in_every_parameter_style(host: Host, style: str) -> None:
    later = NEXT_DAY + timedelta(days=1)
    for mapper in (BulkMapper(), IndividualMapper()):
        cid = make_connection(host, mode=mapper.name)
        with host.database.session() as session:
            store_items(
                session,
                cid,
                [
                    Quarantined(reason="unreadable", payload={"id": "c3"}, source_id="c3"),
                    refund("r9", "c99", NEXT_DAY, "1.00"),  # its charge comes later
                ],
                MORNING,
            )
            plan_connection(session, cid, mapper, later)
        assert _skip_reason(host, cid, "r9") == REFUND_OF_UNFETCHED_CHARGE
        charges = [charge(f"c{n}", MORNING + timedelta(minutes=n)) for n in range(12)]
        with host.database.session() as session:
            first = store_items(
                session, cid, [*charges, charge("c99"), refund("r1", "c1")], NEXT_DAY
            )
            again = store_items(session, cid, [charges[0], charge("c2", amount="1.00")], later)
        assert (first.new, again.unchanged, again.updated) == (14, 1, 1)
        assert _skip_reason(host, cid, "r9") is None  # looked at again now c99 is here
        with host.database.session() as session:
            outcome = plan_connection(session, cid, mapper, later)
            sql = DriverSql(session.connection())
            refunds = sql.fetch(
                "SELECT source_id, amount FROM source_records WHERE connection_id = ? AND kind = ?",
                (cid, "refund"),
            )
            resolved = session.scalar(
                select(QuarantinedRecord.resolved_at).where(QuarantinedRecord.connection_id == cid)
            )
            documents = session.scalars(
                select(DocumentRow).where(DocumentRow.connection_id == cid)
            ).all()
        assert sorted((source_id, read_money(amount)) for source_id, amount in refunds) == [
            ("r1", Decimal("40.00")),
            ("r9", Decimal("1.00")),
        ]
        assert resolved == NEXT_DAY  # c3 arrived readable
        assert outcome.total_documents == len(documents) > 0
        assert outcome.waiting == 0 and outcome.skipped == {}
        assert all(row.body["key"] == row.key for row in documents)
        assert any("r9" in row.body["record_ids"] for row in documents)


def test_collection_is_paused_while_storing_and_planning_and_restored_after() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("a failed plan")
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # whoever turned it off keeps it off
    finally:
        gc.enable()


def test_a_plan_and_a_store_leave_collection_on(host: Host) -> None:
    cid = make_connection(host)
    with host.database.session() as session:
        store_items(session, cid, [charge("c1")], MORNING)
        assert gc.isenabled()
        plan_connection(session, cid, BulkMapper(), NEXT_DAY)
        assert gc.isenabled()
