"""Honest run state: a sync stopped by Ctrl-C or SIGTERM (a real process and a real signal) is
marked interrupted and the next manual sync is allowed and finishes it exactly; a run left
"running" by a killed process is closed by the next sync; only a sync that succeeded uses up
the hourly manual allowance; exit codes 0/1/3; status shows the last success and the last
attempt apart, with pending, failed and quarantined counts; an alert that could not be e-mailed
is sent again; `ledgersync notify-test NAME`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from support.smtp import ReceivedMail

from core import clock
from core.cli.commands.syncing import exit_code
from core.connections.failure import mark_failed
from core.store.models import Alert, Run
from core.store.repository import connection_info, get_connection
from core.sync.engine import ABANDONED
from e2e.conftest import LEDGERSYNC, NOTIFY, ZOHO_ENV, Shop, local_midnight, seed_sales
from e2e.test_cli_sync import assert_ties_out


def _references(shop: Shop) -> list[str]:
    return [str(document["reference_number"]) for document in shop.books()]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_sync_marks_the_run_interrupted_and_the_next_sync_finishes_it(
    shop: Shop, stop: signal.Signals
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    faults = shop.zoho_api.faults
    faults.hold(method="POST", path="customerpayments")  # the first payment stays in flight
    process = subprocess.Popen(
        [str(LEDGERSYNC), "--db", shop.db_url, "sync", "shop"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | ZOHO_ENV,
    )
    try:
        assert faults.holding.acquire(timeout=120), "the sync never reached a payment"
        process.send_signal(stop)
        _, errors = process.communicate(timeout=120)
    finally:
        faults.release()  # the held payment is then created: the next run must find it
        if process.poll() is None:
            process.kill()

    assert process.returncode == 130, errors
    assert "Traceback" not in errors
    assert f"interrupted ({stop.name})" in errors
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["outcome"] for run in history] == ["interrupted"]
    assert stop.name in history[0]["error"]
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["last_attempt_outcome"] == "interrupted" and not status["running"]
    assert status["last_success"] is None
    assert status["pending_documents"] > 0

    again = shop.cli("sync", "shop")  # no --force: an interrupted run uses up no allowance

    assert again.exit_code == 0, again.output
    references = _references(shop)
    assert len(references) == len(set(references)), "a document was booked twice"
    assert_ties_out(shop, day0, now)
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["outcome"] for run in history] == ["succeeded", "interrupted"]


def test_a_run_left_running_by_a_killed_process_is_closed_by_the_next_sync(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(since=day0, now=now)
    with shop.host.database.session() as session:
        connection_id = shop.row().id
        session.add(
            Run(connection_id=connection_id, trigger="manual", started_at=now, pid=2**22 + 7)
        )
    shown = shop.cli("status", "shop")
    assert "(running)" not in shown.output  # no live lease: it is not running
    assert "last attempt: " in shown.output and "(interrupted)" in shown.output

    result = shop.cli("sync", "shop")

    assert result.exit_code == 0, result.output
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["outcome"] for run in history] == ["succeeded", "interrupted"]
    assert history[1]["error"] == ABANDONED


def test_only_a_sync_that_succeeded_uses_up_the_hourly_manual_allowance(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(since=day0, now=now)
    shop.zoho_api.faults.fail(method="POST", times=1000)  # Zoho answers 500 to every write

    failed = shop.cli("sync", "shop")

    assert failed.exit_code == 1, failed.output
    assert shop.row().last_manual_sync_at is None
    shop.zoho_api.faults.clear()
    succeeded = shop.cli("sync", "shop")
    assert succeeded.exit_code == 0, succeeded.output
    assert shop.row().last_manual_sync_at is not None
    refused = shop.cli("sync", "shop")
    assert refused.exit_code == 1 and "manual sync is allowed once per hour" in refused.output
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["last_attempt_outcome"] == "succeeded"
    assert status["last_success"] == status["last_attempt"]


def test_a_paused_sync_exits_3_and_status_keeps_last_success_and_attempt_apart(
    shop: Shop,
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    for hour in range(9, 15):
        shop.charges_api.add_charge(
            amount=Decimal(f"{hour}.00"), created_at=day0 + timedelta(hours=hour)
        )
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    organization = shop.zoho_api.organization(shop.organization_id)
    organization.daily_limit = shop.zoho_api.usage(shop.organization_id) + 20

    paused = shop.cli("sync", "shop")

    assert paused.exit_code == 3, paused.output
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["last_attempt_outcome"] == "paused"
    assert status["last_success"] is None and status["last_attempt"] is not None
    assert status["pending_documents"] > 0 and status["failed_documents"] == 0
    text = shop.cli("status", "shop").output
    assert "last success: never" in text
    assert "(paused): " in text
    assert f"documents pending: {status['pending_documents']}, failed: 0" in text


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ([], 0),
        (["succeeded"], 0),
        (["succeeded", "incomplete"], 3),
        (["paused"], 3),
        (["incomplete", "failed"], 1),
        (["interrupted"], 1),
    ],
)
def test_exit_codes(outcomes: list[str], code: int) -> None:
    assert exit_code(outcomes) == code


def test_an_alert_that_could_not_be_emailed_is_sent_on_the_next_run(
    shop: Shop, mailbox: list[ReceivedMail], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect(notify=[NOTIFY])
    shop.enable(since=day0, now=now)
    working = os.environ["LEDGERSYNC_SMTP_URL"]
    monkeypatch.setenv("LEDGERSYNC_SMTP_URL", "smtp://127.0.0.1:1?timeout=2")  # nobody listens
    with shop.host.database.session() as session:
        info = connection_info(get_connection(session, "shop"))
    mark_failed(shop.host, info, "the refresh token was revoked.", now)
    assert mailbox == []
    with shop.host.database.session() as session:
        alert = session.scalars(select(Alert).where(Alert.connection_id == info.id)).one()
        assert alert.notified_at is None

    monkeypatch.setenv("LEDGERSYNC_SMTP_URL", working)
    first = shop.cli("run-due")
    second = shop.cli("run-due")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    subjects = [mail.message["Subject"] for mail in mailbox]
    assert subjects == ["ledgersync: connection shop failed; sync is paused"]  # once
    assert "the refresh token was revoked." in mailbox[0].part("text/plain")


def test_notify_test_sends_a_test_email(shop: Shop, mailbox: list[ReceivedMail]) -> None:
    shop.connect(notify=[NOTIFY])

    result = shop.cli("notify-test", "shop")

    assert result.exit_code == 0, result.output
    assert "email: sent" in result.output
    assert [mail.message["Subject"] for mail in mailbox] == ["ledgersync: test notice for shop"]
    assert mailbox[0].message["To"] == NOTIFY


def test_notify_test_says_why_no_email_went_out(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop.connect(notify=[NOTIFY])
    monkeypatch.delenv("LEDGERSYNC_SMTP_URL", raising=False)

    result = shop.cli("notify-test", "shop")

    assert result.exit_code == 1
    assert "email: FAILED: " in result.output
    assert "LEDGERSYNC_SMTP_URL is not set: no e-mail was sent." in result.output
    assert "Traceback" not in result.output
