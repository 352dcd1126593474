"""Webhook events in the store: each distinct event stored exactly once, whatever the order
and however often it is delivered."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core import clock
from core.connections.setup import connect_source
from core.events import SourceEvent, body_digest
from core.host import Host
from core.store.models import SourceEventRow
from core.sync.events import event_backlog, mark_handled, store_event

EVENTS = st.builds(
    lambda kind, object_id, change, body: SourceEvent(
        object=kind,
        object_id=object_id,
        event_type=change,
        digest=body_digest(body),
        payload={"id": object_id},
    ),
    st.sampled_from(["charge", "payout"]),
    st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from(["created", "updated"]),
    st.sampled_from([b"{}", b'{"a": 1}', b'{"a": 2}']),
)


def _connection(host: Host) -> int:
    return connect_source(
        host,
        "shop",
        source="hitpay",
        source_account="key-sha256:shop",
        config={},
        secrets={},
        timezone="UTC",
    ).id


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deliveries=st.lists(EVENTS, max_size=30))
def test_each_distinct_event_is_stored_exactly_once(
    any_host: Host, deliveries: list[SourceEvent]
) -> None:
    host = any_host
    with host.database.session() as session:
        session.execute(delete(SourceEventRow))
    connection_id = _existing(host)
    now = clock.now()

    new = [store_event(host.database, connection_id, event, now) for event in deliveries]

    keys = [(e.object, e.object_id, e.event_type, e.digest) for e in deliveries]
    first_seen = [key not in keys[:index] for index, key in enumerate(keys)]
    assert new == first_seen
    with host.database.session() as session:
        rows = session.execute(
            select(
                SourceEventRow.object,
                SourceEventRow.object_id,
                SourceEventRow.event_type,
                SourceEventRow.digest,
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == sorted(set(keys))


def _existing(host: Host) -> int:
    from core.store.models import Connection

    with host.database.session() as session:
        found = session.scalar(select(Connection.id).where(Connection.name == "shop"))
    return found if found is not None else _connection(host)


def test_the_backlog_counts_pending_events_until_a_sync_covers_them(host: Host) -> None:
    connection_id = _connection(host)
    start = clock.now()
    moments = [start + timedelta(seconds=index) for index in range(3)]
    for index, moment in enumerate(moments):
        event = SourceEvent("charge", f"c{index}", "created", body_digest(b"%d" % index), {})
        store_event(host.database, connection_id, event, moment)

    before = event_backlog(host.database, connection_id)
    handled = mark_handled(
        host.database, connection_id, received_by=moments[1], run_id=7, now=moments[2]
    )
    after = event_backlog(host.database, connection_id)

    assert (before.pending, before.first_pending_at, before.last_event) == (
        3,
        moments[0],
        "charge.created",
    )
    assert handled == 2
    assert (after.pending, after.first_pending_at) == (1, moments[2])
