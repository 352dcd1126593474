"""The seed's sync rules end to end: sync periods (charges while disabled are skipped for good),
the channel filter, unknown channels, and `ledgersync why` for every answer it can give."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from support.clock import clear_of
from support.smtp import ReceivedMail

from core import clock
from core.connections.lifecycle import disable, enable
from core.sync.engine import SyncOptions, sync
from e2e.conftest import NOTIFY, TIMEZONE, Shop, local_midnight, seed_sales, sums

ZONE = ZoneInfo(TIMEZONE)


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M %Z")


def why(shop: Shop, charge_id: str) -> str:
    result = shop.cli("why", "shop", charge_id)
    assert result.exit_code == 0, result.output
    return result.output


def test_charges_created_while_disabled_are_skipped_for_good(shop: Shop) -> None:
    api = shop.charges_api
    start = clock.now().replace(microsecond=0) - timedelta(days=3)
    before = api.add_charge(amount=Decimal("9.00"), created_at=start - timedelta(hours=1))
    shop.connect(mode="individual")
    enable(shop.host, "shop", now=start)
    first = api.add_charge(amount=Decimal("10.00"), created_at=start + timedelta(hours=2))
    assert sync(shop.host, "shop", SyncOptions(now=start + timedelta(hours=3))).outcome == (
        "succeeded"
    )
    disabled_at = start + timedelta(hours=5)
    disable(shop.host, "shop", now=disabled_at)
    skipped = api.add_charge(amount=Decimal("20.00"), created_at=disabled_at + timedelta(hours=1))
    enabled_again = disabled_at + timedelta(hours=3)
    enable(shop.host, "shop", now=enabled_again)
    later = api.add_charge(amount=Decimal("30.00"), created_at=enabled_again + timedelta(hours=1))

    report = sync(shop.host, "shop", SyncOptions(now=enabled_again + timedelta(hours=2)))

    assert report.outcome == "succeeded"
    assert dict(report.documents_delivered) == {"invoice": 1, "payment": 1, "expense": 1}
    reason = "created while sync was disabled or before it was enabled"
    assert dict(report.skipped) == {reason: 1}
    # Later syncs (here through the CLI, at the real time) never take the skipped charge.
    assert shop.cli("sync", "shop", "--force").exit_code == 0
    invoices = sorted(d["amount"] for d in shop.books() if d["kind"] == "invoice")
    assert invoices == [Decimal("10.00"), Decimal("30.00")]

    text = why(shop, skipped["id"])
    assert "is not synced: it was created while sync was disabled" in text
    assert f"from {local(disabled_at)} until {local(enabled_again)}" in text
    assert "skipped for good" in text
    text = why(shop, before["id"])  # never fetched: HitPay is asked about it
    assert "9.00 SGD" in text
    assert f"created before sync was enabled (sync starts at {local(start)})" in text
    for synced in (first, later):
        assert "is synced into:" in why(shop, synced["id"])
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert history[1]["skipped"] == {reason: 1}


def test_channel_filter_skips_unselected_channels_and_why_names_them(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 3)
    charges = seed_sales(shop.charges_api, day0)
    weird = shop.charges_api.add_charge(
        amount=Decimal("33.00"), created_at=day0 + timedelta(hours=13), channel="api_hologram"
    )
    shop.connect()
    chosen = shop.cli("settings", "shop", "--channels", "shopify,point_of_sale")
    assert chosen.exit_code == 0, chosen.output
    assert "channels: point_of_sale, shopify" in chosen.output
    shop.enable(since=day0, now=now)

    result = shop.cli("sync", "shop")

    assert result.exit_code == 0, result.output
    out = result.output
    assert "skipped 1: its channel online_store is not selected" in out
    assert "skipped 1: its channel payment_links is not selected" in out
    assert "skipped 1: its channel 'api_hologram' is unknown and not among those selected" in out
    # only shopify (SGD 120.00) and point of sale (USD 45.50, SGD 15.25) are synced
    invoices = sums(shop.books(), "invoice")
    assert invoices == {"SGD": Decimal("135.25"), "USD": Decimal("45.50")}
    # the refund of the unselected payment-links charge is skipped with it
    assert sums(shop.books(), "credit_note") == {"SGD": Decimal("20.00")}

    text = why(shop, charges[2]["id"])
    assert "is not synced: its channel online_store is not selected" in text
    text = why(shop, weird["id"])
    assert "'api_hologram' is unknown and not among those selected" in text
    assert "is synced into:" in why(shop, charges[1]["id"])
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["channels"] == ["point_of_sale", "shopify"]
    assert status["unknown_channels"] == {"api_hologram": 1}
    assert "unknown channel 'api_hologram': 1 charge(s)" in shop.cli("status", "shop").output


def test_an_unknown_channel_syncs_under_all_channels_and_is_counted(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    shop.charges_api.add_charge(
        amount=Decimal("33.00"), created_at=day0 + timedelta(hours=9), channel="api_hologram"
    )
    shop.charges_api.add_charge(
        amount=Decimal("7.00"), created_at=day0 + timedelta(hours=10), channel="api_shopify"
    )
    shop.connect()
    shop.enable(since=day0, now=now)

    result = shop.cli("sync", "shop")

    assert result.exit_code == 0, result.output
    assert "unknown channel 'api_hologram': 1 charge(s)" in result.output
    assert sums(shop.books(), "invoice") == {"SGD": Decimal("40.00")}
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["unknown_channels"] == {"api_hologram": 1}
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert history[0]["counts"]["unknown_channels"] == {"api_hologram": 1}


def test_why_answers_every_case(
    shop: Shop, mailbox: list[ReceivedMail], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [(TIMEZONE, time(0))])  # "today" must not close mid-test
    day0 = local_midnight(now, 2)
    api = shop.charges_api
    synced = api.add_charge(amount=Decimal("50.00"), created_at=day0 + timedelta(hours=9))
    broken = api.add_charge(
        amount="not-a-number", created_at=day0 + timedelta(hours=10), channel="api_link"
    )
    pending = api.add_charge(
        amount=Decimal("5.00"), created_at=day0 + timedelta(hours=11), status="pending"
    )
    today = api.add_charge(amount=Decimal("12.00"), created_at=now - timedelta(seconds=1))
    shop.connect(notify=[NOTIFY])
    shop.enable(since=day0, now=now)
    result = shop.cli("sync", "shop")
    assert result.exit_code == 0, result.output
    assert "quarantined 1" in result.output
    late = api.add_charge(amount=Decimal("8.00"), created_at=clock.now())

    lines = why(shop, synced["id"]).splitlines()
    remote = {d["reference_number"]: d["id"] for d in shop.books()}
    assert lines[0].startswith(f"Charge {synced['id']} (50.00 SGD, created ")
    assert lines[0].endswith("is synced into:")
    day = day0.date().isoformat()
    for kind, key in (
        ("invoice", f"hitpay:day:{day}:SGD:1:invoice"),
        ("payment", f"hitpay:day:{day}:SGD:1:payment"),
        ("expense", f"hitpay:day:{day}:fees:SGD:1:expense"),
    ):
        assert f"  {kind} {key}: remote id {remote[key]}" in lines

    text = why(shop, broken["id"])
    assert f"Charge {broken['id']} is quarantined: amount" in text
    assert (
        "is not synced: its status at HitPay is 'pending': the payment has not completed, "
        "so it is not a sale." in why(shop, pending["id"])
    )
    closes = local_midnight(now, -1)
    text = why(shop, today["id"])
    assert f"waits for its bulk day {now.astimezone(ZONE).date()} to close at {local(closes)}" in (
        text
    )
    last_sync = shop.row().last_sync_at
    text = why(shop, late["id"])
    assert f"exists at HitPay but has not been fetched yet (last sync: {local(last_sync)})" in text
    assert "run `ledgersync sync shop`" in text
    unknown = str(uuid.uuid4())
    assert why(shop, unknown).strip() == (
        f"Charge {unknown} is unknown to HitPay: check the id and the business."
    )

    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["quarantined"] == 1
    run = json.loads(shop.cli("history", "shop", "--json").output)[0]
    assert (run["quarantined"], run["counts"]["fetched"]) == (1, 3)
    assert [m.message["Subject"] for m in mailbox] == [
        "ledgersync: 1 record(s) quarantined for shop"
    ]
