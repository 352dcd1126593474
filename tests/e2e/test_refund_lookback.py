"""How far back each sync looks for refunds: a connection setting, 120 days by default.

HitPay lists no refunds (hitpay.refund.no_list): a refund is found by re-reading the sales of
the look-back window. HitPay refuses wallet refunds (PayNow, GrabPay, ...) after 30 days but
has no limit for cards (hitpay.refund.max_period), so the window must be longer than 30 days,
and an operator whose customers are refunded later widens it with `settings --refund-lookback`.

The whole system runs (host, HitPay and Zoho stand-ins, the real engine) with simulated time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability.reference import NOW
from reliability.system import CONNECTION, ChargeSpec, DataSet, System

from core.cli.main import build_cli
from core.connections.settings import REFUND_LOOKBACK_DAYS, SettingsChange, change_settings


@pytest.fixture
def shop(tmp_path: Path, secret_key: str) -> Iterator[System]:
    sale = NOW - timedelta(days=2)
    data = DataSet((ChargeSpec(Decimal("80.00"), "sgd", sale),), since=sale - timedelta(hours=1))
    with System(f"sqlite:///{tmp_path / 'shop.sqlite'}", start=NOW, mode="individual") as system:
        system.connect(data)
        assert system.sync().outcome == "succeeded"
        yield system


def credit_notes(system: System) -> list[object]:
    return list(system.raw_books()["credit_notes"])


def refund_after(system: System, days: int) -> None:
    """Sync every ten days (so the sale is long fetched), then refund it ``days`` after."""
    for _ in range(days // 10):
        system.advance(timedelta(days=10))
        system.sync()
    system.advance(timedelta(days=days % 10))
    [charge] = system.charge_ids
    system.hitpay.refund(charge, Decimal("30.00"), at=system.now())


@pytest.mark.vendor_fact("hitpay.refund.max_period")
def test_a_card_refund_months_after_the_sale_is_found_by_default(shop: System) -> None:
    assert REFUND_LOOKBACK_DAYS == 120
    refund_after(shop, 100)  # a card may be refunded long after 30 days
    shop.sync()
    assert len(credit_notes(shop)) == 1


@pytest.mark.vendor_fact("hitpay.refund.max_period")
def test_a_refund_older_than_the_setting_waits_until_the_window_is_widened(shop: System) -> None:
    change_settings(shop.host, CONNECTION, SettingsChange(refund_lookback=31))
    refund_after(shop, 45)
    shop.sync()
    assert credit_notes(shop) == []  # the sale is older than the window: not re-read
    change_settings(shop.host, CONNECTION, SettingsChange(refund_lookback=60))
    shop.sync()
    assert len(credit_notes(shop)) == 1


def test_the_setting_is_shown_and_checked_in_one_line(shop: System) -> None:
    runner = CliRunner()
    shown = runner.invoke(build_cli(), ["--db", shop.db_url, "settings", CONNECTION, "--json"])
    assert '"refund_lookback_days": 120' in shown.output
    wrong = runner.invoke(
        build_cli(), ["--db", shop.db_url, "settings", CONNECTION, "--refund-lookback", "7"]
    )
    assert wrong.exit_code == 2 and "7 is not in the range 31<=x<=3650" in wrong.output
    assert "Traceback" not in wrong.output
