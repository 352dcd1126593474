"""Health and notifications end to end, with a real SMTP server: a revoked Zoho authorization
fails the connection and sends ONE e-mail however many runs and probes follow; reconnecting
sends "restored" and catches up on everything; repeated sync failures alert once; disconnect
revokes and forgets the credentials and keeps the history."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from support.smtp import ReceivedMail

from core import clock
from core.connections.lifecycle import enable
from core.scheduling.runner import due_connections, probe_health, run_due
from core.store.models import Alert, Credential
from core.store.repository import get_connection
from core.sync.engine import SyncOptions, sync
from e2e.conftest import NOTIFY, PER_MINUTE, TIMEZONE, Shop, local_midnight, one_line_error
from e2e.test_schedule_and_leases import at_local

CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens there
FAILED = "ledgersync: connection shop failed; sync is paused"
RESTORED = "ledgersync: connection shop restored"


def subjects(mailbox: list[ReceivedMail]) -> list[str]:
    return [str(m.message["Subject"]) for m in mailbox]


def invoice_amounts(shop: Shop) -> list[Decimal]:
    return sorted(d["amount"] for d in shop.books() if d["kind"] == "invoice")


def reconnect_args(shop: Shop) -> list[str]:
    return [
        "zoho", "connect", "shop", "--datacenter", "com",
        "--accounts-url", shop.zoho_api.accounts_url, "--api-url", shop.zoho_api.api_url,
        "--grant-code", shop.zoho_api.issue_grant_code(),
        "--organization", shop.organization_id,
        "--requests-per-minute", str(PER_MINUTE),
    ]  # fmt: skip


@pytest.mark.parametrize("detected_by", ["sync", "health probe"])
def test_a_revoked_authorization_sends_one_email_and_reconnecting_catches_up(
    shop: Shop, mailbox: list[ReceivedMail], detected_by: str
) -> None:
    api = shop.charges_api
    day = local_midnight(clock.now(), 6)
    shop.connect(mode="individual", notify=[NOTIFY])
    enable(shop.host, "shop", now=at_local(day, 8))
    api.add_charge(amount=Decimal("10.00"), created_at=at_local(day, 9))
    assert [r.report and r.report.outcome for r in run_due(shop.host, at_local(day, 10))] == [
        "succeeded"
    ]
    refresh_token = shop.host.vault(shop.row().id).get("refresh_token")
    assert refresh_token is not None
    shop.zoho_api.revoke(refresh_token)  # the user revoked ledgersync's access at Zoho
    api.add_charge(amount=Decimal("20.00"), created_at=at_local(day + timedelta(days=1), 1))

    # 02:00: the daily sync meets the refusal; 10:00: the daily health probe (a day after
    # the last one) finds it first and the sync does not even start.
    hour = 2 if detected_by == "sync" else 10
    first = run_due(shop.host, at_local(day + timedelta(days=1), hour))

    if detected_by == "sync":
        assert [r.report and r.report.outcome for r in first] == ["failed"]
    else:
        assert first == []
    row = shop.row()
    assert row.status == "failed"
    assert "Zoho refused the stored refresh token" in (row.failure_reason or "")
    assert subjects(mailbox) == [FAILED]
    mail = mailbox[0]
    assert mail.recipients == (NOTIFY,)
    text = mail.part("text/plain")
    assert "Zoho refused the stored refresh token" in text
    assert "Reconnect with `ledgersync zoho connect shop" in text
    assert "nothing from the failure is skipped" in text
    assert "ledgersync zoho connect shop" in mail.part("text/html")

    # Days pass: runs, probes and manual attempts, and the sales go on. Still one e-mail.
    for days in (2, 3):
        api.add_charge(
            amount=Decimal(f"{days}0.00"), created_at=at_local(day + timedelta(days=days), 1)
        )
        assert run_due(shop.host, at_local(day + timedelta(days=days), 10)) == []
        probe_health(shop.host, "shop", at_local(day + timedelta(days=days), 11))
    manual = shop.cli("sync", "shop", "--force")
    assert manual.exit_code == 1
    assert "has failed and its sync is paused" in one_line_error(manual.output)
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert (status["status"], status["next_scheduled_sync"]) == ("failed", None)
    assert subjects(mailbox) == [FAILED]

    reconnected = shop.cli(*reconnect_args(shop))

    assert reconnected.exit_code == 0, reconnected.output
    assert subjects(mailbox) == [FAILED, RESTORED]
    assert "nothing from the failure period is skipped" in mailbox[1].part("text/plain")
    assert shop.row().status == "active"

    catch_up = run_due(shop.host, clock.now())

    assert [r.report and r.report.outcome for r in catch_up] == ["succeeded"]
    assert invoice_amounts(shop) == [
        Decimal("10.00"), Decimal("20.00"), Decimal("20.00"), Decimal("30.00"),
    ]  # fmt: skip
    report = catch_up[0].report
    assert report is not None and dict(report.skipped) == {}
    assert subjects(mailbox) == [FAILED, RESTORED]
    with shop.host.database.session() as session:
        open_alerts = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.resolved_at.is_(None))
        )
    assert open_alerts == 0


def test_a_reconnected_connection_is_due_at_once_for_its_catch_up(
    shop: Shop, mailbox: list[ReceivedMail]
) -> None:
    now = clock.now()
    synced_at = now - timedelta(minutes=10)
    shop.connect(mode="individual", notify=[NOTIFY])
    far_off = (now + timedelta(hours=12)).astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")
    assert shop.cli("settings", "shop", "--sync-time", far_off).exit_code == 0
    enable(shop.host, "shop", now=synced_at - timedelta(minutes=5))
    sync(shop.host, "shop", SyncOptions(now=synced_at))
    token = shop.host.vault(shop.row().id).get("refresh_token")
    assert token is not None
    shop.zoho_api.revoke(token)
    shop.charges_api.add_charge(
        amount=Decimal("15.00"), created_at=synced_at + timedelta(minutes=1)
    )
    failed = sync(shop.host, "shop", SyncOptions(now=synced_at + timedelta(minutes=2), force=True))
    assert failed.outcome == "failed"
    assert due_connections(shop.host, clock.now()) == []  # failed: paused

    assert shop.cli(*reconnect_args(shop)).exit_code == 0

    # The daily time is 12 hours away, but the catch-up does not wait for it.
    assert due_connections(shop.host, clock.now()) == ["shop"]
    assert [r.name for r in run_due(shop.host, clock.now())] == ["shop"]
    assert invoice_amounts(shop) == [Decimal("15.00")]
    assert due_connections(shop.host, clock.now()) == []
    assert subjects(mailbox) == [FAILED, RESTORED]


def test_repeated_sync_failures_alert_once_and_recovery_closes_the_episode(
    shop: Shop, mailbox: list[ReceivedMail]
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    shop.charges_api.add_charge(amount=Decimal("10.00"), created_at=day0 + timedelta(hours=9))
    shop.connect(mode="individual", notify=[NOTIFY])
    shop.enable(since=day0, now=now)
    shop.charges_api.fail_next(3 * 4, status=503)  # 4 syncs, 3 attempts each

    outcomes = []
    for attempt in range(4):
        report = sync(shop.host, "shop", SyncOptions(now=now + timedelta(hours=attempt)))
        outcomes.append(report.outcome)
        assert len(mailbox) == (1 if attempt >= 2 else 0)

    assert outcomes == ["failed"] * 4
    assert subjects(mailbox) == ["ledgersync: sync of shop failed repeatedly"]
    assert "HitPay kept answering 503" in mailbox[0].part("text/plain")
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert all("HitPay kept answering 503" in run["error"] for run in history)
    assert shop.row().status == "active"  # a transient failure is no failed connection

    recovered = sync(shop.host, "shop", SyncOptions(now=now + timedelta(hours=5)))

    assert recovered.outcome == "succeeded"
    assert invoice_amounts(shop) == [Decimal("10.00")]
    with shop.host.database.session() as session:
        still_open = session.scalars(select(Alert.kind).where(Alert.resolved_at.is_(None))).all()
    assert still_open == []
    assert len(mailbox) == 1


def test_disconnect_revokes_and_forgets_the_credentials_and_keeps_the_history(
    shop: Shop,
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    charge = shop.charges_api.add_charge(
        amount=Decimal("42.00"), created_at=day0 + timedelta(hours=9)
    )
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    assert shop.cli("sync", "shop").exit_code == 0
    connection_id = shop.row().id
    token = shop.host.vault(connection_id).get("refresh_token")
    assert token is not None
    ledger_before = json.loads(shop.cli("ledger", "shop", "--json").output)
    history_before = json.loads(shop.cli("history", "shop", "--json").output)

    declined = shop.cli("disconnect", "shop", input="n\n")
    assert declined.exit_code == 1
    assert shop.row().status == "active"
    result = shop.cli("disconnect", "shop", input="y\n")

    assert result.exit_code == 0, result.output
    assert "Disconnected shop. Its history is kept" in result.output
    assert "Zoho Books: authorization revoked." in result.output
    assert shop.zoho_api.oauth.refresh_tokens[token].revoked
    with shop.host.database.session() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Credential)
            .where(Credential.connection_id == connection_id)
        )
    assert stored == 0
    assert json.loads(shop.cli("ledger", "shop", "--json").output) == ledger_before
    assert json.loads(shop.cli("history", "shop", "--json").output) == history_before
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert (status["status"], status["enabled"]) == ("disconnected", False)
    assert "is synced into:" in shop.cli("why", "shop", charge["id"]).output
    refused = shop.cli("sync", "shop", "--force")
    assert refused.exit_code == 1
    assert "is disconnected" in one_line_error(refused.output)
    assert shop.books() != []  # nothing is removed from the books either
    assert shop.row().timezone == TIMEZONE


def test_disconnect_completes_when_the_destination_cannot_revoke(shop: Shop) -> None:
    shop.connect()
    connection_id = shop.row().id
    with shop.host.database.session() as session:
        row = get_connection(session, "shop")
        row.destination_config = {**row.destination_config, "accounts_url": CLOSED_PORT}

    result = shop.cli("disconnect", "shop", "--yes")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Disconnected shop. Its history is kept; reconnect at any time."
    assert lines[1].startswith("  Zoho Books: could not revoke the authorization (")
    assert lines[1].endswith("revoke ledgersync's access at Zoho Books yourself.")
    with shop.host.database.session() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Credential)
            .where(Credential.connection_id == connection_id)
        )
    assert stored == 0
    assert shop.row().status == "disconnected"


def test_a_refused_hitpay_key_fails_the_connection_until_hitpay_is_reconnected(
    shop: Shop, mailbox: list[ReceivedMail]
) -> None:
    api = shop.charges_api
    now = clock.now()
    day0 = local_midnight(now, 2)
    shop.connect(mode="individual", notify=[NOTIFY])
    shop.enable(since=day0, now=now)
    shop.host.vault(shop.row().id).set("api_key", "a-key-hitpay-no-longer-knows")
    api.add_charge(amount=Decimal("25.00"), created_at=day0 + timedelta(hours=9))

    failed = shop.cli("sync", "shop")

    assert failed.exit_code == 1
    assert "HitPay rejected the API key (401)" in failed.output
    assert shop.row().status == "failed"
    assert subjects(mailbox) == [FAILED]
    assert "Reconnect with `ledgersync hitpay connect" in mailbox[0].part("text/plain")

    reconnected = shop.cli(
        "hitpay", "connect", "shop", "--api-key", api.api_key, "--api-url", api.url
    )

    assert reconnected.exit_code == 0, reconnected.output
    assert subjects(mailbox) == [FAILED, RESTORED]
    assert shop.cli("sync", "shop", "--force").exit_code == 0
    assert invoice_amounts(shop) == [Decimal("25.00")]
