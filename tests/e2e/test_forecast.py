"""`ledgersync sync NAME --dry-run` forecasts the destination calls the planned work needs,
per document kind, and the real sync then spends within 5% of it (the Zoho Books stand-in
counts every API request it is charged for)."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from support.clock import clear_of

from core import clock
from e2e.conftest import Shop, local_midnight

DAYS = 12
UTC_MIDNIGHT = ("UTC", time(0))


def seed_month(shop: Shop, day0: datetime) -> int:
    """``DAYS`` days of sales in SGD and USD, several a day, about 10% of them refunded
    (partly or fully). Returns the number of charges."""
    api = shop.charges_api
    charges = []
    for day in range(DAYS):
        for hour, (amount, currency) in enumerate(
            [("120.00", "sgd"), ("45.50", "usd"), ("80.00", "sgd"), ("15.25", "sgd")]
        ):
            at = day0 + timedelta(days=day, hours=9 + hour)
            charges.append(api.add_charge(amount=Decimal(amount), currency=currency, created_at=at))
    for index, charge in enumerate(charges[::10]):
        amount = Decimal(str(charge["amount"])) if index % 2 else Decimal("5.00")
        created = datetime.fromisoformat(str(charge["created_at"]))
        api.refund(charge["id"], amount, at=created + timedelta(hours=3))
    return len(charges)


@pytest.mark.parametrize("mode", ["individual", "bulk", "individual --fees/--payments daily"])
def test_the_forecast_is_within_five_percent_of_the_calls_the_sync_spends(
    shop: Shop, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [UTC_MIDNIGHT])  # the stand-in counts calls per UTC day
    day0 = local_midnight(now, DAYS + 1)
    seed_month(shop, day0)
    shop.connect(mode=mode.split()[0])
    if "daily" in mode:  # the forecast knows the daily groupings (issue 17 item 4)
        grouped = shop.cli("settings", "shop", "--fees", "daily", "--payments", "daily", "--json")
        assert grouped.exit_code == 0, grouped.output
        assert json.loads(grouped.output)["payments"] == "daily"
    shop.enable(since=day0, now=now)
    organization = shop.organization_id
    used_before = shop.zoho_api.usage(organization)

    dry = shop.cli("sync", "shop", "--dry-run", "--json")

    assert dry.exit_code == 0, dry.output
    assert shop.zoho_api.usage(organization) == used_before  # a forecast spends no call
    assert shop.books() == []
    forecast = json.loads(dry.output)["forecast"]
    assert forecast["documents_per_kind"] == json.loads(dry.output)["planned"]
    assert forecast["calls"] == sum(forecast["calls_per_kind"].values())
    assert forecast["per_minute"] > 0
    assert forecast["minutes"] * forecast["per_minute"] >= forecast["calls"]

    real = shop.cli("sync", "shop", "--json")

    assert real.exit_code == 0, real.output
    assert json.loads(real.output)["outcome"] == "succeeded"
    spent = shop.zoho_api.usage(organization) - used_before
    assert spent > 0
    print(f"{mode}: forecast {forecast['calls']} calls, spent {spent}")
    assert abs(forecast["calls"] - spent) <= 0.05 * spent, (forecast, spent)
    if "daily" in mode:
        kinds = json.loads(dry.output)["planned"]
        assert kinds["payment"] < kinds["invoice"] and kinds["expense"] < kinds["invoice"]


def test_the_dry_run_says_the_calls_per_kind_and_how_long(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, DAYS + 1)
    charges = seed_month(shop, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)

    dry = shop.cli("sync", "shop", "--dry-run")

    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    summary = next(line for line in lines if line.startswith("  forecast: "))
    refunds = len(range(0, charges, 10))
    # an invoice (create, mark sent), a payment and a fee expense per charge; a credit note
    # and its refund (read the note, read the invoice, refund) per refund
    # and once: the currencies, and per currency (SGD, USD) the customer looked up and created
    setup = 1 + 2 * 2
    claim = 1 + 1  # read which store claims the organization; claim it (core/sync/claims.py)
    calls = (2 + 1 + 1) * charges + (1 + 3) * refunds + setup + claim
    assert summary.startswith(f"  forecast: {calls:,} calls: about ")
    assert f"    invoice: {charges} documents, {2 * charges} calls" in lines
    assert f"    credit_refund: {refunds} documents, {3 * refunds} calls" in lines
    assert f"    setup: metadata, once, {setup} calls" in lines
    assert f"    claim: which store writes here, every run, {claim} calls" in lines


def test_a_warm_run_forecasts_no_setup_and_is_exact(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [UTC_MIDNIGHT])
    day0 = local_midnight(now, DAYS + 1)
    seed_month(shop, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    assert shop.cli("sync", "shop").exit_code == 0
    for hour in range(5):
        shop.charges_api.add_charge(
            amount=Decimal("30.00"),
            created_at=day0 + timedelta(days=DAYS - 1, hours=20, minutes=hour),
        )
    organization = shop.organization_id
    used_before = shop.zoho_api.usage(organization)

    forecast = json.loads(shop.cli("sync", "shop", "--dry-run", "--json").output)["forecast"]
    real = shop.cli("sync", "shop", "--force", "--json")

    assert real.exit_code == 0, real.output
    assert "setup" not in forecast["calls_per_kind"]
    assert forecast["calls_per_kind"]["claim"] == 1  # read; renewed less than an hour ago
    assert forecast["calls"] == 5 * (2 + 1 + 1) + 1
    assert shop.zoho_api.usage(organization) - used_before == forecast["calls"]
