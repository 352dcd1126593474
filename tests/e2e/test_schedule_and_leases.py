"""The host scheduler's entry (`run_due(host, now)` with an injected now), the daily time in the
connection's zone (DST included), pausing at the daily API limit and resuming, and never two
syncs of one connection at once: in one process and across processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.clock import clear_of
from support.processes import started_with_sigint_ignored
from support.smtp import ReceivedMail

from core import clock, hookimpl
from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.connections.setup import attach_destination
from core.contracts import RunInfo
from core.errors import SyncRefused
from core.scheduling.runner import due_connections, run_due
from core.store.repository import get_connection
from core.sync.engine import SyncOptions, sync
from e2e.conftest import LEDGERSYNC, NOTIFY, TIMEZONE, Shop, local_midnight, one_line_error
from plugins.hitpay_source.testing.kit import HitPayStandInKit
from plugins.hitpay_source.testing.standin import HitPayStandIn

HOLDER_SCRIPT = Path(__file__).parent.parent / "support" / "lease_holder.py"


def at_local(day: datetime, hour: int, minute: int = 0, zone: str = TIMEZONE) -> datetime:
    """``day``'s local date at HH:MM in ``zone`` (as PEP 495 resolves it, fold=0), in UTC."""
    local = datetime.combine(day.date(), datetime.min.time(), tzinfo=ZoneInfo(zone))
    return local.replace(hour=hour, minute=minute).astimezone(UTC)


def test_the_daily_sync_is_due_at_the_local_sync_time_and_not_before(shop: Shop) -> None:
    day = local_midnight(clock.now(), 6)
    shop.connect(mode="individual")
    enable(shop.host, "shop", now=at_local(day, 8))
    shop.charges_api.add_charge(amount=Decimal("11.00"), created_at=at_local(day, 9))

    first = run_due(shop.host, at_local(day, 10))  # never synced: due at once

    assert [(r.name, r.report and r.report.outcome) for r in first] == [("shop", "succeeded")]
    assert run_due(shop.host, at_local(day, 23, 59)) == []
    next_day = day + timedelta(days=1)
    shop.charges_api.add_charge(amount=Decimal("12.00"), created_at=at_local(next_day, 1))
    assert run_due(shop.host, at_local(next_day, 1, 59)) == []

    second = run_due(shop.host, at_local(next_day, 2))

    assert [(r.name, r.report and r.report.outcome) for r in second] == [("shop", "succeeded")]
    assert second[0].report is not None
    assert dict(second[0].report.documents_delivered) == {"invoice": 1, "payment": 1, "expense": 1}
    assert run_due(shop.host, at_local(next_day, 2, 1)) == []
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["trigger"] for run in history] == ["scheduled", "scheduled"]
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert datetime.fromisoformat(status["next_scheduled_sync"]) == at_local(
        next_day + timedelta(days=1), 2
    )


def test_a_manual_sync_moves_the_daily_sync_only_past_it(shop: Shop) -> None:
    day = local_midnight(clock.now(), 4)
    shop.connect(mode="individual")
    enable(shop.host, "shop", now=at_local(day, 8))
    sync(shop.host, "shop", SyncOptions(now=at_local(day, 9)))
    sync(shop.host, "shop", SyncOptions(now=at_local(day + timedelta(days=1), 1)))
    # The manual sync at 01:00 came before 02:00, so the daily sync still runs at 02:00.
    assert due_connections(shop.host, at_local(day + timedelta(days=1), 1, 59)) == []
    assert due_connections(shop.host, at_local(day + timedelta(days=1), 2)) == ["shop"]


@pytest.mark.parametrize(
    ("sync_time", "last", "not_yet", "due", "after"),
    [
        # Spring forward (2025-03-09): 02:30 does not exist; it is taken as 03:30 EDT.
        ("02:30", "2025-03-08T12:00-05:00", "2025-03-09T07:29Z", "2025-03-09T07:30Z", None),
        # Fall back (2025-11-02): 01:30 happens twice; only the first (EDT) one syncs.
        (
            "01:30",
            "2025-11-01T12:00-04:00",
            "2025-11-02T05:29Z",
            "2025-11-02T05:30Z",
            "2025-11-02T06:30Z",
        ),
    ],
)
def test_the_daily_time_in_a_zone_with_daylight_saving(
    shop: Shop, sync_time: str, last: str, not_yet: str, due: str, after: str | None
) -> None:
    shop.connect(mode="individual")
    changed = shop.cli(
        "settings", "shop", "--timezone", "America/New_York", "--sync-time", sync_time
    )
    assert changed.exit_code == 0, changed.output
    last_sync = datetime.fromisoformat(last)
    enable(shop.host, "shop", now=last_sync - timedelta(hours=1))
    assert sync(shop.host, "shop", SyncOptions(now=last_sync)).outcome == "succeeded"

    assert run_due(shop.host, datetime.fromisoformat(not_yet)) == []
    ran = run_due(shop.host, datetime.fromisoformat(due))

    assert [(r.name, r.report and r.report.outcome) for r in ran] == [("shop", "succeeded")]
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [(run["trigger"], run["started_at"]) for run in history] == [
        ("scheduled", datetime.fromisoformat(due).isoformat()),
        ("manual", last_sync.astimezone(UTC).isoformat()),
    ]
    if after is not None:
        assert run_due(shop.host, datetime.fromisoformat(after)) == []


def test_a_sync_paused_at_the_daily_api_limit_resumes_after_it(
    shop: Shop, mailbox: list[ReceivedMail]
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    for hour in range(9, 15):
        shop.charges_api.add_charge(
            amount=Decimal(f"{hour}.00"), created_at=day0 + timedelta(hours=hour)
        )
    shop.connect(mode="individual", notify=[NOTIFY])
    shop.enable(since=day0, now=now)
    organization = shop.zoho_api.organization(shop.organization_id)
    organization.daily_limit = shop.zoho_api.usage(shop.organization_id) + 20

    paused = sync(shop.host, "shop", SyncOptions(now=now))

    assert paused.outcome == "paused"
    assert 0 < sum(paused.documents_delivered.values()) < 18
    resume = shop.row().paused_until
    assert resume is not None and resume > now
    status = shop.cli("status", "shop")
    assert "paused until" in status.output
    assert run_due(shop.host, resume - timedelta(seconds=1)) == []
    organization.daily_limit = 10_000  # Zoho's count starts again the next day

    resumed = run_due(shop.host, resume)

    assert [(r.name, r.report and r.report.outcome) for r in resumed] == [("shop", "succeeded")]
    assert sum(1 for d in shop.books() if d["kind"] == "invoice") == 6
    assert shop.row().paused_until is None
    subjects = [m.message["Subject"] for m in mailbox]
    assert subjects == ["ledgersync: daily API limit reached for shop"]


class HoldSyncOpen:
    """A plugin that holds the first sync to start until the test lets it go."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.go = threading.Event()

    @hookimpl
    def sync_started(self, run: RunInfo) -> None:
        if not self.started.is_set():
            self.started.set()
            assert self.go.wait(60), "the test never let the held sync go"


@pytest.fixture
def held(shop: Shop) -> Iterator[HoldSyncOpen]:
    plugin = HoldSyncOpen()
    shop.host.plugins.register(plugin, name="hold_sync_open")
    yield plugin
    plugin.go.set()
    shop.host.plugins.unregister("hold_sync_open")


def test_two_syncs_of_one_connection_one_is_refused(shop: Shop, held: HoldSyncOpen) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    shop.charges_api.add_charge(amount=Decimal("10.00"), created_at=day0 + timedelta(hours=9))
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    reports = []
    first = threading.Thread(
        target=lambda: reports.append(sync(shop.host, "shop", SyncOptions(now=now)))
    )
    first.start()
    try:
        assert held.started.wait(30)
        with pytest.raises(SyncRefused, match="a sync of 'shop' is already running"):
            sync(shop.host, "shop", SyncOptions(now=now, force=True))
        other_process = shop.run("sync", "shop", "--force")
        assert other_process.returncode == 1
        assert "already running" in one_line_error(other_process.stderr)
        assert [r.refused for r in run_due(shop.host, now + timedelta(days=1))] == [
            "a sync of 'shop' is already running. Wait for it to finish; see `ledgersync status`."
        ]
    finally:
        held.go.set()
        first.join(60)
    assert [r.outcome for r in reports] == ["succeeded"]
    assert sum(1 for d in shop.books() if d["kind"] == "invoice") == 1


def test_a_lease_held_by_another_process_refuses_until_that_process_dies(shop: Shop) -> None:
    shop.connect(mode="individual")
    shop.enable(since=clock.now() - timedelta(days=1), now=clock.now())
    holder = subprocess.Popen(
        [sys.executable, str(HOLDER_SCRIPT), shop.db_url, str(shop.row().id)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().startswith("acquired")

        refused = shop.cli("sync", "shop")
        in_a_process = shop.run("sync", "shop")

        assert refused.exit_code == 1
        assert one_line_error(refused.output) == (
            "Error: a sync of 'shop' is already running. Wait for it to finish; "
            "see `ledgersync status`."
        )
        assert in_a_process.returncode == 1
        assert "already running" in one_line_error(in_a_process.stderr)
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)

        after = shop.cli("sync", "shop")  # a dead holder on this host does not block

        assert after.exit_code == 0, after.output
        assert "Sync of shop: succeeded" in after.output
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)


def test_run_due_for_cron_and_the_scheduler_loop_in_real_processes(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [(TIMEZONE, time(2))])  # no daily sync time between two passes
    shop.charges_api.add_charge(amount=Decimal("10.00"), created_at=now - timedelta(minutes=5))
    shop.connect(mode="individual")
    shop.enable(since=now - timedelta(hours=1), now=now)

    due = shop.run("run-due")

    assert due.returncode == 0, due.stderr
    assert due.stdout == "Sync of shop: succeeded\n"
    assert shop.run("run-due").stdout == "Nothing due.\n"
    assert sum(1 for d in shop.books() if d["kind"] == "invoice") == 1

    # The scheduler: one pass, then Ctrl-C while it waits for the next.
    with shop.host.database.session() as session:
        get_connection(session, "shop").last_sync_at = None  # due again at once
    scheduler = subprocess.Popen(
        [str(LEDGERSYNC), "--db", shop.db_url, "scheduler", "--interval", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert scheduler.stdout is not None
        assert scheduler.stdout.readline()[21:].startswith(
            "ledgersync scheduler: checking every 3600s"
        )
        assert scheduler.stdout.readline()[21:] == "shop: succeeded\n"
        scheduler.send_signal(signal.SIGINT)
        out, err = scheduler.communicate(timeout=60)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait(30)
    assert scheduler.returncode == 0, err
    assert out[21:] == "Scheduler stopped.\n"  # after a time stamp
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["trigger"] for run in history] == ["scheduled", "scheduled"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_scheduler_stops_cleanly_even_started_with_sigint_ignored(
    shop: Shop, stop: signal.Signals
) -> None:
    """A scheduler started from a script with ``&`` inherits SIGINT ignored; systemd stops
    services with SIGTERM. Either way the loop stops with its last line and exit code 0."""
    with started_with_sigint_ignored(
        [str(LEDGERSYNC), "--db", shop.db_url, "scheduler", "--interval", "3600"],
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    ) as scheduler:
        assert scheduler.stdout is not None
        assert "ledgersync scheduler: checking every 3600s" in scheduler.stdout.readline()
        scheduler.send_signal(stop)
        out, err = scheduler.communicate(timeout=60)
    assert (scheduler.returncode, out[21:], err) == (0, "Scheduler stopped.\n", "")


class BrokenBooks:
    """A destination whose health probe and deliveries blow up with a bug, not a typed error."""

    name = "broken_books"
    display_name = "Broken Books"

    def __init__(self, context: object) -> None:
        self.context = context

    def organization_id(self) -> str:
        return "broken-org"

    def validate(self, settings: object) -> None:
        return None

    def find_existing(self, document: object, context: object) -> str | None:
        raise RuntimeError("find_existing exploded")

    def deliver(self, document: object, context: object) -> str:
        raise RuntimeError("deliver exploded")

    def health(self) -> object:
        raise RuntimeError("health exploded")


class BrokenBooksPlugin:
    @hookimpl
    def register_destinations(self, register: object) -> None:
        register(BrokenBooks)  # type: ignore[operator]


def test_one_connection_with_a_broken_plugin_does_not_stop_the_others(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    shop.charges_api.add_charge(amount=Decimal("10.00"), created_at=day0 + timedelta(hours=9))
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    shop.host.plugins.register(BrokenBooksPlugin(), name="broken_books_plugin")
    try:
        with HitPayStandIn() as other_business:
            other_business.add_charge(amount=Decimal("5.00"), created_at=day0 + timedelta(hours=9))
            HitPayStandInKit(other_business).connect(shop.host, "broken", TIMEZONE)
            attach_destination(
                shop.host,
                "broken",
                destination="broken_books",
                organization="broken-org",
                config={},
                secrets={},
            )
            accounts = {r: "1" for r in ("sales_account", "fee_account", "refund_account")}
            change_settings(
                shop.host,
                "broken",
                SettingsChange(**accounts, bank_account="1", item="1", mode="individual"),
            )
            enable(shop.host, "broken", since=day0, now=now)

            results = {r.name: r for r in run_due(shop.host, now)}

        assert set(results) == {"broken", "shop"}
        shop_report = results["shop"].report
        assert shop_report is not None and shop_report.outcome == "succeeded"
        broken_report = results["broken"].report
        assert broken_report is not None and broken_report.outcome == "failed"
        # A store's first delivery to an organization looks each document up first (adoption,
        # issue 14): the broken destination's look-up is the first call that blows up.
        assert broken_report.error == "RuntimeError: find_existing exploded"
        assert sum(1 for d in shop.books() if d["kind"] == "invoice") == 1
    finally:
        shop.host.plugins.unregister("broken_books_plugin")
