"""Know the quota: the Zoho client's X-Rate-Limit-Limit/-Remaining/-Reset are kept per
organization, `ledgersync settings NAME --api-share PERCENT` caps ledgersync's share of the
day, and `ledgersync status` shows the calls used today, the quota, what remains and when it
resets; the dry run's forecast measures the work against what is left of the share."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from support.clock import clear_of

from core import clock
from e2e.conftest import TIMEZONE, Shop, local_midnight, seed_sales

UTC_MIDNIGHT = ("UTC", time(0))


def near_next_utc_midnight(resets_at: str) -> bool:
    """X-Rate-Limit-Reset counts whole seconds: the reset is the next UTC midnight, give or
    take the seconds the calls took."""
    now = clock.now()
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
    return abs(datetime.fromisoformat(resets_at) - midnight) <= timedelta(seconds=5)


def test_status_shows_the_quota_the_destination_answered_with_and_the_share(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [UTC_MIDNIGHT])  # the quota is counted per UTC day
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    organization = shop.organization_id
    limit = shop.zoho_api.organization(organization).daily_limit
    shop.zoho_api.spend(organization, 300)  # the organization's other apps, earlier today

    assert shop.cli("sync", "shop").exit_code == 0

    quota = json.loads(shop.cli("status", "shop", "--json").output)["api_quota"]
    used_by_all = shop.zoho_api.usage(organization)
    assert quota["limit"] == limit
    assert quota["remaining"] == limit - used_by_all
    assert near_next_utc_midnight(quota["resets_at"])
    assert quota["used_today"] == used_by_all - 300  # what ledgersync spent of it
    assert quota["share_percent"] == 80
    assert quota["share_calls"] == limit * 80 // 100
    assert quota["share_left"] == min(
        limit - used_by_all, quota["share_calls"] - quota["used_today"]
    )
    text = shop.cli("status", "shop").output
    assert (
        f"destination API quota: {quota['used_today']:,} calls used today by ledgersync; "
        f"{limit:,} a day, {limit - used_by_all:,} left for all apps (resets "
    ) in text
    assert f"ledgersync's share 80% = {limit * 80 // 100:,}, {quota['share_left']:,} left" in text


def test_the_quota_is_not_known_before_the_destination_answered(shop: Shop) -> None:
    shop.hitpay.connect(shop.host, shop.name, TIMEZONE)
    shop.zoho.connect(shop.host, shop.name)  # tokens stored; no Books API call yet

    assert json.loads(shop.cli("status", "shop", "--json").output)["api_quota"] is None
    assert "destination API quota: not known yet" in shop.cli("status", "shop").output


def test_the_share_is_a_setting_from_1_to_100_percent(shop: Shop) -> None:
    shop.connect()
    shown = json.loads(shop.cli("settings", "shop", "--json").output)
    assert shown["api_share"] == 80

    changed = shop.cli("settings", "shop", "--api-share", "25")

    assert changed.exit_code == 0, changed.output
    assert "  api share: 25" in changed.output
    assert json.loads(shop.cli("settings", "shop", "--json").output)["api_share"] == 25
    for wrong in ("0", "101", "half"):
        refused = shop.cli("settings", "shop", "--api-share", wrong)
        assert refused.exit_code == 2
        assert "Traceback" not in refused.output
        assert "--api-share" in refused.output
    assert json.loads(shop.cli("settings", "shop", "--json").output)["api_share"] == 25


def test_the_forecast_measures_the_work_against_what_is_left_of_the_share(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [UTC_MIDNIGHT])
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    organization = shop.organization_id
    limit = shop.zoho_api.organization(organization).daily_limit
    shop.cli("settings", "shop", "--api-share", "50")  # reads accounts: the quota is known
    used = shop.zoho_api.usage(organization)
    share_left = limit // 2 - used

    roomy = json.loads(shop.cli("sync", "shop", "--dry-run", "--json").output)["forecast"]

    assert roomy["remaining_today"] == share_left
    assert roomy["fits_today"] is True
    assert near_next_utc_midnight(roomy["resets_at"])
    line = next(
        line
        for line in shop.cli("sync", "shop", "--dry-run").output.splitlines()
        if line.startswith("  forecast: ")
    )
    assert line.endswith(f"; fits today's remaining {share_left:,}")

    shop.cli("settings", "shop", "--api-share", "1")  # 1% of the day: less than the work
    tight = json.loads(shop.cli("sync", "shop", "--dry-run", "--json").output)["forecast"]

    assert tight["remaining_today"] == max(0, min(limit - used, limit // 100 - used))
    assert tight["fits_today"] is False


def test_a_sync_pauses_at_the_share_and_a_larger_share_finishes_it_exactly_once(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [UTC_MIDNIGHT])
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)
    organization = shop.organization_id
    limit = shop.zoho_api.organization(organization).daily_limit
    assert shop.cli("settings", "shop", "--api-share", "1").exit_code == 0
    share_calls = limit // 100
    dry = json.loads(shop.cli("sync", "shop", "--dry-run", "--json").output)
    planned = sum(dry["planned"].values())
    assert dry["forecast"]["fits_today"] is False
    used_before = shop.zoho_api.usage(organization)

    paused = shop.cli("sync", "shop", "--json")

    report = json.loads(paused.output)
    assert report["outcome"] == "paused", paused.output
    assert "ledgersync's share of today's API quota is spent" in report["error"]
    spent = shop.zoho_api.usage(organization)
    assert used_before < spent
    assert spent <= share_calls + 3  # the last document's calls may pass the share a little
    assert 0 < sum(report["created"].values()) < planned
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["paused_until"] is not None
    assert near_next_utc_midnight(status["paused_until"])
    # Pacing stops between units (a charge's invoice, payment and expense go together): what
    # is left of the share is less than one charge's documents need.
    forecast = dry["forecast"]
    per_charge = sum(
        forecast["calls_per_kind"][kind] / forecast["documents_per_kind"][kind]
        for kind in ("invoice", "payment", "expense")
    )
    assert 0 <= status["api_quota"]["share_left"] < per_charge
    partial = shop.books()
    assert len(partial) == sum(report["created"].values())

    assert shop.cli("settings", "shop", "--api-share", "100").exit_code == 0
    finished = shop.cli("sync", "shop", "--force", "--json")

    assert json.loads(finished.output)["outcome"] == "succeeded", finished.output
    books = shop.books()
    references = [document["reference_number"] for document in books]
    assert len(references) == len(set(references))  # nothing twice
    assert len(books) == planned
