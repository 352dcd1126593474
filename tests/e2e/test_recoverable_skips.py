"""Skips undone on request, always explicitly: `enable --since` earlier than the open period
extends it; `ledgersync backfill NAME --from --to` books what was skipped before enabling, while
disabled, or from a channel selected only later, after a confirmation saying what it books;
`ledgersync quarantine NAME [--json] [--retry]` lists the quarantine and takes it back after a
fix. Each ends with books that tie out with HitPay and nothing booked twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from support.clock import clear_of
from support.smtp import ReceivedMail

from core import clock
from core.connections.lifecycle import disable, enable
from core.connections.settings import SettingsChange, change_settings
from core.sync.engine import SyncOptions, sync
from e2e.conftest import NOTIFY, TIMEZONE, Shop, local_midnight, one_line_error, seed_sales, sums

DAY_CLOSES = [(TIMEZONE, datetime.min.time())]


def ties_out(shop: Shop, since: datetime, until: datetime) -> None:
    totals = shop.totals(since, until)
    assert sums(shop.books(), "invoice") == {c: t.charges for c, t in totals.items()}
    assert shop.clearing() == {c: t.charges - t.fees - t.refunds for c, t in totals.items()}
    keys = [d["reference_number"] for d in shop.books()]
    assert len(keys) == len(set(keys)), "a document was booked twice"


def test_enable_since_earlier_than_the_open_period_extends_it(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, DAY_CLOSES)
    day0 = local_midnight(now, 2)
    charges = seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(day0 + timedelta(days=1), now)  # day 1 only
    assert shop.cli("sync", "shop").exit_code == 0
    assert "created before sync was enabled" in shop.cli("why", "shop", charges[0]["id"]).output

    moved = shop.cli("enable", "shop", "--since", day0.isoformat())

    assert moved.exit_code == 0, moved.output
    assert f"charges created from {day0.isoformat()} (back-fill) on are synced" in moved.output
    synced = shop.cli("sync", "shop", "--force")
    assert synced.exit_code == 0, synced.output
    ties_out(shop, day0, now)
    assert "is synced into:" in shop.cli("why", "shop", charges[0]["id"]).output
    again = shop.cli("enable", "shop", "--since", (day0 + timedelta(hours=1)).isoformat())
    assert again.exit_code == 0  # a later --since leaves the open period as it is
    shown = again.output.split("charges created from ")[1].split()[0]
    assert datetime.fromisoformat(shown) == day0


def test_enable_since_cannot_reach_into_an_earlier_period(shop: Shop) -> None:
    now = clock.now()
    shop.connect()
    enable(shop.host, "shop", since=now - timedelta(days=5), now=now - timedelta(days=5))
    disable(shop.host, "shop", now=now - timedelta(days=3))
    enable(shop.host, "shop", now=now - timedelta(days=1))
    result = shop.cli("enable", "shop", "--since", (now - timedelta(days=4)).isoformat())
    line = one_line_error(result.output)
    assert "overlaps an earlier sync period" in line and "ledgersync backfill" in line


def test_backfill_books_what_was_skipped_before_enabling_and_while_disabled(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, DAY_CLOSES)
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)  # days 0 and 1
    seed_sales(shop.charges_api, day0 + timedelta(days=2))  # days 2 and 3 (3 is today)
    shop.connect()
    # Enabled from day 1 to day 2, so day 0 was never fetched and day 2 fell in a gap.
    enable(shop.host, "shop", since=day0 + timedelta(days=1), now=day0 + timedelta(days=1))
    disable(shop.host, "shop", now=day0 + timedelta(days=2))
    enable(shop.host, "shop", now=day0 + timedelta(days=3))
    assert shop.cli("sync", "shop").exit_code == 0
    day = [(day0 + timedelta(days=n)).date().isoformat() for n in range(4)]

    refused = shop.cli("backfill", "shop", "--from", day[2], "--to", day[2], input="n\n")
    assert refused.exit_code == 1 and "Aborted!" in refused.output
    books_before = shop.books()
    preview = refused.output.splitlines()
    assert preview[0] == f"Back-fill of shop from {day[2]} to {day[2]} ({TIMEZONE}):"
    assert preview[1] == "  3 skipped charge(s) will be booked at the sync that follows:"
    assert preview[2] == "    3 created while sync was disabled or before it was enabled"
    assert preview[3] == "    amounts: 3000 JPY, 120.00 SGD, 45.50 USD"
    assert preview[4] == "Book them? [y/N]: n"

    gap = shop.cli("backfill", "shop", "--from", day[2], "--to", day[2], input="y\n")
    assert gap.exit_code == 0, gap.output
    assert "Sync of shop: succeeded" in gap.output
    assert len(shop.books()) > len(books_before)

    before = shop.cli("backfill", "shop", "--from", day[0], "--to", day[0], "--yes")
    assert before.exit_code == 0, before.output
    assert f"Nothing from {day[0]} to {day[1]} 00:00 was ever fetched" in before.output
    ties_out(shop, day0, local_midnight(now, 0))

    nothing = shop.cli("backfill", "shop", "--from", day[0], "--to", day[2], "--yes")
    assert nothing.output == f"Nothing to back-fill: no charge of shop from {day[0]} to " + (
        f"{day[2]} was skipped.\n"
    )
    assert shop.cli("sync", "shop", "--force").output.count("created:") == 0


@pytest.mark.parametrize("mode", ["bulk", "individual"])
def test_backfill_brings_the_charges_of_a_channel_selected_later(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    now = clear_of(monkeypatch, DAY_CLOSES)
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect(channels=["point_of_sale"], mode=mode)
    shop.enable(day0, now)
    assert shop.cli("sync", "shop").exit_code == 0
    assert shop.cli("settings", "shop", "--channels", "all").exit_code == 0
    assert shop.cli("sync", "shop", "--force").output.count("created:") == 0  # for good

    first, last = day0.date().isoformat(), (day0 + timedelta(days=1)).date().isoformat()
    done = shop.cli("backfill", "shop", "--from", first, "--to", last, "--yes")

    assert done.exit_code == 0, done.output
    assert "    3 its channel" not in done.output
    assert "skipped charge(s) will be booked" in done.output
    ties_out(shop, day0, now)


def test_a_backfill_while_disabled_is_booked_at_the_next_sync_after_enabling(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, DAY_CLOSES)
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect()
    enable(shop.host, "shop", since=day0, now=day0)
    disable(shop.host, "shop", now=day0 + timedelta(hours=1))  # before the first sale
    first, last = day0.date().isoformat(), (day0 + timedelta(days=1)).date().isoformat()

    done = shop.cli("backfill", "shop", "--from", first, "--to", last, "--yes")

    assert done.exit_code == 0, done.output
    assert "Not synced now: sync is disabled for 'shop'. Enable it with" in done.output
    assert "The back-fill is recorded; the first sync that runs books it." in done.output
    assert shop.books() == []
    assert shop.cli("enable", "shop").exit_code == 0
    assert shop.cli("sync", "shop").exit_code == 0
    ties_out(shop, day0, now)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from", "2026-11-02", "--to", "2026-11-01"], "--from 2026-11-02 is after --to"),
        (["--from", "2999-01-01", "--to", "2999-01-02"], "is in the future"),
    ],
)
def test_bad_backfill_ranges_are_one_line(shop: Shop, args: list[str], expected: str) -> None:
    shop.connect()
    assert expected in one_line_error(shop.cli("backfill", "shop", *args, "--yes").output)


def test_quarantine_lists_reasons_and_a_retry_takes_them_back_after_a_fix(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, mailbox: list[ReceivedMail]
) -> None:
    now = clear_of(monkeypatch, DAY_CLOSES)
    day0 = local_midnight(now, 1)
    api = shop.charges_api
    api.add_charge(amount=Decimal("50.00"), created_at=day0 + timedelta(hours=9))
    broken = api.add_charge(amount="not-a-number", created_at=day0 + timedelta(hours=10))
    shop.connect(notify=[NOTIFY])
    shop.enable(day0, now)
    assert "quarantined 1" in shop.cli("sync", "shop").output
    body = mailbox[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "`ledgersync quarantine shop` lists each record with its reason" in body, body
    assert shop.cli("sync", "shop", "--force").exit_code == 0  # seen twice

    listed = json.loads(shop.cli("quarantine", "shop", "--json").output)
    assert [(q["kind"], q["source_id"], q["times_seen"]) for q in listed] == [
        ("charge", broken["id"], 2)
    ]
    assert listed[0]["reason"].startswith("amount")
    text = shop.cli("quarantine", "shop").output.splitlines()
    assert text[0] == "1 quarantined record(s) of shop:"
    assert text[1].startswith(f"  charge {broken['id']}: amount")
    assert "(seen 2 time(s), first " in text[1]
    assert text[2] == "After a fix, `ledgersync quarantine shop --retry` takes them back in."

    still = shop.cli("quarantine", "shop", "--retry")  # nothing fixed yet
    assert still.exit_code == 0, still.output
    assert "0 read again, 0 to be judged again, 1 still unreadable" in still.output
    assert sums(shop.books(), "invoice") == {"SGD": Decimal("50.00")}

    entry = api.ledger.find(broken["id"])
    assert entry is not None
    entry.payload["amount"] = "20.00"  # fixed at the source
    fixed = shop.cli("quarantine", "shop", "--retry")

    assert fixed.exit_code == 0, fixed.output
    assert "1 read again" in fixed.output
    assert fixed.output.rstrip().endswith("Nothing of shop is quarantined.")
    assert sums(shop.books(), "invoice") == {"SGD": Decimal("70.00")}
    assert json.loads(shop.cli("status", "shop", "--json").output)["quarantined"] == 0


def test_a_backfill_never_books_charges_a_booked_payout_settled_through_its_adjustment(
    shop: Shop,
) -> None:
    """A payout settled a charge from before enabling; its adjustment put it into clearing.
    Booking that charge now would count it twice: the back-fill is refused, books untouched."""
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    api = shop.charges_api
    before = api.add_charge(amount=Decimal("80.00"), created_at=day0 + timedelta(hours=10))
    api.add_charge(amount=Decimal("120.00"), created_at=enabled + timedelta(hours=9))
    api.payouts.schedule(enabled.date(), 2)
    shop.connect()
    org = shop.zoho.connected[shop.name]
    change_settings(
        shop.host,
        "shop",
        SettingsChange(
            payout_account=org.other_bank_account, adjustment_account=org.adjustment_account
        ),
    )
    shop.enable(since=enabled, now=enabled)
    assert sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4))).outcome == (
        "succeeded"
    )
    notes = " | ".join(d["notes"] for d in shop.books() if d["kind"] == "adjustment")
    assert f"charge {before['id']} never synced" in notes
    books, clearing = shop.books(), shop.clearing()

    for args in (["backfill", "shop", "--from", day0.date().isoformat(), "--to",
                  day0.date().isoformat(), "--yes"],
                 ["enable", "shop", "--since", day0.isoformat()]):  # fmt: skip
        line = one_line_error(shop.cli(*args).output)
        assert "is booked and settled 1 charge(s) ledgersync had not synced" in line
        assert "would book them twice" in line
    assert shop.books() == books and shop.clearing() == clearing
