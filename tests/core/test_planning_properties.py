"""The multi-run invariants again, through the real store: ingest, plan, ingest more, plan...

Each example stores records in batches with ``store_items`` and plans after each batch with
``plan_connection`` on a SQLite file, exactly as a sync does. Every example creates its own
connection in one database, so examples do not see each other's records.

These run 50 examples each, not the profile's 500: an example here costs tens of SQLite
transactions (~50 ms), and the same invariants are already checked 500 times per mode by the
pure versions in test_mapping_properties.py; this file proves the planner feeds the mapper
the way those pure runs assume.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from support.budget import examples
from test_mapping_strategies import Scenario, arrivals, plan_once, scenarios
from test_planning import make_connection

from core.contracts import Mapper
from core.host import Host
from core.mapping.bulk import BulkMapper
from core.mapping.individual import IndividualMapper
from core.mapping.invariants import totals
from core.reasons import REFUND_OF_UNFETCHED_CHARGE
from core.records import Record
from core.store.models import Assignment, DocumentRow, SourceRecord
from core.sync.ingest import store_items
from core.sync.planning import plan_connection

STORE_BACKED = settings(
    max_examples=examples(dev=50, ci=200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
modes = pytest.mark.parametrize("mapper", [BulkMapper(), IndividualMapper()], ids=lambda m: m.name)


@pytest.fixture
def host(any_host: Host) -> Host:
    """These tests run on the embedded SQLite store and, when configured, on PostgreSQL."""
    return any_host


def _stored_totals(host: Host, connection_id: int) -> dict[tuple[str, str], Decimal]:
    with host.database.session() as session:
        rows = session.execute(
            select(DocumentRow.kind, DocumentRow.currency, DocumentRow.amount).where(
                DocumentRow.connection_id == connection_id
            )
        ).all()
    found: dict[tuple[str, str], Decimal] = {}
    for kind, currency, amount in rows:
        found[(kind, currency)] = found.get((kind, currency), Decimal(0)) + amount
    return found


def _assignments(host: Host, connection_id: int) -> Counter[tuple[str, str, str]]:
    with host.database.session() as session:
        rows = session.execute(
            select(SourceRecord.kind, SourceRecord.source_id, Assignment.kind)
            .join(Assignment, Assignment.record_id == SourceRecord.id)
            .where(SourceRecord.connection_id == connection_id)
        ).all()
    return Counter((kind, source_id, document_kind) for kind, source_id, document_kind in rows)


def _expected_assignments(records: list[Record]) -> Counter[tuple[str, str, str]]:
    expected: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        if record.kind == "refund":
            kinds = ["credit_note", "credit_refund"]
        else:
            kinds = ["invoice", "payment"] + (["expense"] if record.fee > 0 else [])  # type: ignore[union-attr]
        expected.update((record.kind, record.source_id, kind) for kind in kinds)
    return expected


@modes
@STORE_BACKED
@given(data=st.data())
def test_store_backed_runs_give_the_same_totals_and_plan_nothing_twice(
    host: Host, mapper: Mapper, data: st.DataObject
) -> None:
    scenario: Scenario = data.draw(scenarios(max_charges=8))
    batches: list[tuple[list[Record], datetime]] = data.draw(arrivals(scenario))
    connection_id = make_connection(
        host,
        mode=mapper.name,
        timezone=scenario.zone.key,
        periods=[(scenario.start - timedelta(days=1), None)],
    )
    for batch, now in batches:
        with host.database.session() as session:
            store_items(session, connection_id, batch, now)
            outcome = plan_connection(session, connection_id, mapper, now)
        # A refund that arrives before its charge is skipped until the charge is stored.
        assert set(outcome.skipped) <= {REFUND_OF_UNFETCHED_CHARGE}
        assert outcome.quarantined == 0
    assert outcome.waiting == 0
    with host.database.session() as session:
        reasons = session.scalars(
            select(SourceRecord.skip_reason).where(SourceRecord.connection_id == connection_id)
        )
        assert set(reasons) == {None}
    # Every day has closed: the store holds exactly what one pure plan of everything makes.
    assert _stored_totals(host, connection_id) == totals(plan_once(mapper, scenario))
    assert _assignments(host, connection_id) == _expected_assignments(scenario.records)
    with host.database.session() as session:
        again = plan_connection(session, connection_id, mapper, scenario.after + timedelta(days=3))
    assert again.total_documents == 0 and again.waiting == 0
