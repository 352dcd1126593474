"""Sync periods under any sequence of enable / disable / back-fill: they never overlap, at most
one is open, `enabled` says whether one is, and `why`'s explanation of a charge's moment agrees
with them (inside, before sync was enabled, or while it was disabled)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from support.databases import add_connection

from core.connections.lifecycle import disable, enable
from core.errors import ConfigurationError
from core.host import Host
from core.plugins import Plugins
from core.store.models import Connection, SyncPeriod
from core.sync.diagnosis import _outside_periods

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Singapore")
SETTINGS = {r: "1" for r in ("sales_account", "fee_account", "refund_account", "bank_account")}

# (minutes after the previous step, "enable" | "disable", back-fill minutes for enable or 0)
steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=600),
        st.sampled_from(["enable", "disable"]),
        st.integers(min_value=0, max_value=900),
    ),
    max_size=10,
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    folder: Path = tmp_path_factory.mktemp("periods")
    h = Host(f"sqlite:///{folder / 'ledgersync.sqlite'}", plugins=Plugins())
    yield h
    h.close()


Period = tuple[datetime, datetime | None]


def model_enable(periods: list[Period], now: datetime, since: datetime) -> None:
    """What enable must do: while a period is open, move its start to an earlier ``since``
    (a back-fill) unless that would overlap an earlier period (an error), else nothing; with
    none open, a new period from ``since`` unless that would overlap an earlier one."""
    if periods and periods[-1][1] is None:
        if since < periods[-1][0]:
            if any(end is not None and end > since for _start, end in periods[:-1]):
                raise ConfigurationError("overlap")
            periods[-1] = (since, None)
        return
    if any(end is not None and end > since for _start, end in periods):
        raise ConfigurationError("overlap")
    periods.append((since, None))


def model_disable(periods: list[Period], now: datetime) -> None:
    if periods and periods[-1][1] is None:
        start = periods[-1][0]
        periods[-1] = (start, max(now, start))


@given(steps=steps, moments=st.lists(st.integers(min_value=-600, max_value=8000), max_size=8))
def test_periods_follow_enable_and_disable_and_why_agrees(
    host: Host, steps: list[tuple[int, str, int]], moments: list[int]
) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    connection_id = add_connection(host.database, name, settings=dict(SETTINGS, item="1"))
    expected: list[Period] = []
    now = T0
    for minutes, action, backfill in steps:
        now += timedelta(minutes=minutes)
        if action == "disable":
            disable(host, name, now=now)
            model_disable(expected, now)
            continue
        since = now - timedelta(minutes=backfill)
        try:
            model_enable(expected, now, since)
        except ConfigurationError:
            with pytest.raises(ConfigurationError, match="overlaps an earlier sync period"):
                enable(host, name, since=since if backfill else None, now=now)
        else:
            enable(host, name, since=since if backfill else None, now=now)

    with host.database.session() as session:
        stored = [
            (p.started_at, p.ended_at)
            for p in session.scalars(
                select(SyncPeriod)
                .where(SyncPeriod.connection_id == connection_id)
                .order_by(SyncPeriod.started_at)
            )
        ]
        enabled = session.get_one(Connection, connection_id).enabled
    assert stored == expected
    assert sum(end is None for _start, end in stored) <= 1
    assert enabled == (bool(stored) and stored[-1][1] is None)
    for (_s1, end), (start, _e2) in pairwise(stored):
        assert end is not None and end <= start
    for minute in moments:
        created = T0 + timedelta(minutes=minute)
        inside = any(s <= created and (e is None or created < e) for s, e in stored)
        text = _outside_periods(created, stored, ZONE)
        assert (text == "") == inside
        if not inside:
            assert text.endswith("such charges are skipped for good.")
            if not stored:
                assert text.startswith("sync has never been enabled")
            elif created < stored[0][0]:
                assert text.startswith("it was created before sync was enabled")
            else:
                assert text.startswith("it was created while sync was disabled")
