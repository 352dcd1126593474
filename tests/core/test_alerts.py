"""Alert episodes (one notice per episode) and notifying without ever crashing a sync."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from support.databases import add_connection
from support.notifiers import FaultyNotifiersPlugin, InboxNotifier, InboxPlugin

from core.connections.alerts import mark_notified, notify, open_alert, open_alerts, resolve_alerts
from core.contracts import Notice, NoticeKind
from core.plugins import Plugins
from core.store.database import Database, open_database
from core.store.models import Alert, Connection
from core.store.repository import connection_info

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
FAILED = NoticeKind.CONNECTION_FAILED


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("alerts") / "ledgersync.sqlite"
    database = open_database(f"sqlite:///{path}")
    with database.engine.connect() as keeper:  # keeps the WAL from being checkpointed per close
        keeper.execute(text("SELECT 1")).all()
        yield database
    database.dispose()


@pytest.fixture
def connection_id(database: Database) -> int:
    return add_connection(database)


def alerts_of(database: Database, connection_id: int) -> list[Alert]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Alert).where(Alert.connection_id == connection_id).order_by(Alert.id)
            )
        )


# ----------------------------------------------------------------------------- episodes


def test_only_the_start_of_an_episode_opens_an_alert(
    database: Database, connection_id: int
) -> None:
    with database.session() as session:
        first = open_alert(session, connection_id, FAILED, "token revoked", T0)
        assert first is not None and first.id is not None
        assert (first.kind, first.message, first.opened_at) == (
            "connection_failed",
            "token revoked",
            T0,
        )
    with database.session() as session:
        later = T0 + timedelta(days=1)
        assert open_alert(session, connection_id, FAILED, "token still revoked", later) is None
    [only] = alerts_of(database, connection_id)
    assert (only.opened_at, only.message, only.resolved_at) == (T0, "token still revoked", None)


def test_resolving_returns_the_episodes_it_closed(database: Database, connection_id: int) -> None:
    with database.session() as session:
        open_alert(session, connection_id, FAILED, "revoked", T0)
        open_alert(session, connection_id, NoticeKind.DAILY_LIMIT_REACHED, "limit", T0)
    with database.session() as session:
        resolved = resolve_alerts(session, connection_id, FAILED, T0 + timedelta(hours=5))
        assert [(a.kind, a.resolved_at) for a in resolved] == [
            ("connection_failed", T0 + timedelta(hours=5))
        ]
        assert resolve_alerts(session, connection_id, FAILED, T0 + timedelta(hours=6)) == []
        assert [a.kind for a in open_alerts(session, connection_id)] == ["daily_limit_reached"]
    with database.session() as session:
        again = open_alert(session, connection_id, FAILED, "revoked again", T0 + timedelta(days=2))
        assert again is not None  # a new episode
    with database.session() as session:
        closed = resolve_alerts(session, connection_id, None, T0 + timedelta(days=3))
        assert sorted(a.kind for a in closed) == ["connection_failed", "daily_limit_reached"]
        assert open_alerts(session, connection_id) == []


def test_episodes_of_one_connection_do_not_touch_another(database: Database) -> None:
    one, two = add_connection(database), add_connection(database)
    with database.session() as session:
        assert open_alert(session, one, FAILED, "x", T0) is not None
        assert open_alert(session, two, FAILED, "x", T0) is not None
        assert len(resolve_alerts(session, one, FAILED, T0)) == 1
        assert len(open_alerts(session, two)) == 1


def test_mark_notified_records_when_the_notice_went_out(
    database: Database, connection_id: int
) -> None:
    with database.session() as session:
        alert = open_alert(session, connection_id, FAILED, "x", T0)
        assert alert is not None
        mark_notified(alert, T0 + timedelta(seconds=3))
    assert alerts_of(database, connection_id)[0].notified_at == T0 + timedelta(seconds=3)


@given(runs=st.lists(st.booleans(), max_size=12))
def test_one_failure_notice_and_one_restored_notice_per_episode(
    database: Database, runs: list[bool]
) -> None:
    connection_id = add_connection(database)
    failure_notices = restored_notices = 0
    with database.session() as session:
        for number, failed in enumerate(runs):
            now = T0 + timedelta(days=number)
            if failed:
                failure_notices += open_alert(session, connection_id, FAILED, "x", now) is not None
            else:
                restored_notices += len(resolve_alerts(session, connection_id, FAILED, now))
    episodes = sum(1 for i, failed in enumerate(runs) if failed and (i == 0 or not runs[i - 1]))
    ended = sum(
        1 for i, failed in enumerate(runs) if failed and i + 1 < len(runs) and not runs[i + 1]
    )
    assert failure_notices == episodes
    assert restored_notices == ended
    assert len(alerts_of(database, connection_id)) == episodes


# ----------------------------------------------------------------------------- notify


@pytest.fixture
def notice(database: Database, connection_id: int) -> Notice:
    with database.session() as session:
        info = connection_info(session.get_one(Connection, connection_id))
    return Notice(
        kind=FAILED,
        connection=info,
        subject="connection failed",
        message="The destination refused the token.",
        hint="Reconnect it.",
        occurred_at=T0,
    )


@pytest.fixture
def inbox() -> Iterator[list[Notice]]:
    InboxNotifier.received.clear()
    yield InboxNotifier.received
    InboxNotifier.received.clear()


def test_notify_reaches_every_notifier(notice: Notice, inbox: list[Notice]) -> None:
    plugins = Plugins(load_entry_points=False)
    plugins.register(InboxPlugin(), name="inbox")
    assert notify(plugins, notice) == []
    assert inbox == [notice]


def test_a_failing_notifier_is_logged_and_reported_and_the_others_still_send(
    notice: Notice, inbox: list[Notice], caplog: pytest.LogCaptureFixture
) -> None:
    plugins = Plugins(load_entry_points=False)
    plugins.register(FaultyNotifiersPlugin(), name="faulty")
    plugins.register(InboxPlugin(), name="inbox")
    with caplog.at_level(logging.WARNING, logger="core.connections.alerts"):
        failures = notify(plugins, notice)
    assert inbox == [notice]
    assert sorted((f.notifier, f.error) for f in failures) == [
        ("broken_mail", "ConnectionRefusedError: [Errno 111] Connection refused"),
        ("unbuildable", "ValueError: LEDGERSYNC_EXAMPLE_URL is not a URL"),
    ]
    logged = caplog.text
    assert "notifier broken_mail could not send connection_failed" in logged
    assert "notifier unbuildable could not send" in logged


def test_the_built_in_log_notifier_writes_the_notice(
    notice: Notice, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = Plugins()  # the built-ins the test environment allows (log and e-mail)
    with caplog.at_level(logging.WARNING, logger="ledgersync.notices"):
        assert notify(plugins, notice) == []
    assert f"[{notice.connection.name}] connection failed: The destination refused" in caplog.text
