"""The books are the backup: a store lost and rebuilt adopts what the old one wrote.

Sync a span, delete the store and its secret key, reconnect both sides through the CLI to the
same HitPay business and Zoho Books organization, enable with the same --since and sync:
nothing is created again, every document is adopted (bound to its records), the books are
exact. A later sync delivers new days as usual."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core import clock
from core.host import Host
from core.plugins import get_plugins
from e2e.conftest import PER_MINUTE, TIMEZONE, Shop, local_midnight, seed_sales
from e2e.test_cli_sync import assert_ties_out, kinds
from plugins.zoho_books.testing.standin.listing import DATE_FILTERS, DEFAULT_DATE_FILTER
from plugins.zoho_books.testing.standin.server import SeededOrganization


def _connect_through_cli(
    shop: Shop,
    org: SeededOrganization,
    since: datetime,
    mode: str = "bulk",
    *,
    take_over: bool = False,
) -> str:
    """Connect both sides, map, enable; the output of `zoho connect`."""
    api = shop.charges_api
    steps = [
        ("hitpay", "connect", "shop", "--api-key", api.api_key, "--api-url", api.url,
         "--timezone", TIMEZONE),
        ("zoho", "connect", "shop", "--datacenter", "com",
         "--accounts-url", shop.zoho_api.accounts_url, "--api-url", shop.zoho_api.api_url,
         "--grant-code", shop.zoho_api.issue_grant_code(), "--organization", org.organization_id,
         "--requests-per-minute", str(PER_MINUTE), *(["--take-over"] if take_over else [])),
        ("settings", "shop", "--sales-account", org.sales_account,
         "--fee-account", org.fee_account, "--refund-account", org.refund_account,
         "--bank-account", org.bank_account, "--item", org.item, "--mode", mode),
        ("enable", "shop", "--since", since.isoformat()),
    ]  # fmt: skip
    said = ""
    for step in steps:
        result = shop.cli(*step)
        assert result.exit_code == 0, (step, result.output)
        said = result.output if step[:2] == ("zoho", "connect") else said
    return said


def _lose_the_store(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.host.close()
    path = Path(shop.db_url.removeprefix("sqlite:///"))
    for file in path.parent.glob(path.name + "*"):
        file.unlink()
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", Fernet.generate_key().decode())  # key lost too
    shop.host = Host(shop.db_url, plugins=get_plugins())


def _sync_lose_and_sync_again(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, mode: str, days: int
) -> None:
    """Sync the span, lose the store and key, reconnect, sync again: nothing is created, every
    document is adopted, the books are exact."""
    now = clock.now()
    since = local_midnight(now, days + 1)
    if mode == "bulk":
        shop.hitpay.seed_demo(since, days, TIMEZONE, seed=14)
    else:
        seed_sales(shop.charges_api, since)
    org = shop.zoho_api.create_organization("Shop Pte Ltd")
    shop.adopt(org)
    _connect_through_cli(shop, org, since, mode)
    first = shop.cli("sync", "shop", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["adopted"] == {}  # nothing there yet: all created
    written = sorted(str(d["reference_number"]) for d in shop.books())
    assert written

    _lose_the_store(shop, monkeypatch)
    connected = _connect_through_cli(shop, org, since, mode, take_over=True)
    assert "Took the organization over from store " in connected  # the lost store's claim
    listed = kinds(shop.books())  # invoices and expenses are listed; the rest depends on them
    held = listed["invoice"] + listed.get("expense", 0)
    assert f"already holds {held} document(s) under ledgersync's keys" in connected
    assert "The next sync adopts each one it would write" in connected
    again = shop.cli("sync", "shop", "--json")

    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["outcome"] == "succeeded"
    assert report["created"] == {}, "a document was created twice"
    assert sum(report["adopted"].values()) == len(written)
    assert report["adopted"] == kinds(shop.books())
    assert sorted(str(d["reference_number"]) for d in shop.books()) == written
    assert_ties_out(shop, since, now)
    ledger = json.loads(shop.cli("ledger", "shop", "--json").output)
    assert all(row["remote_id"] for row in ledger) and len(ledger) == len(written)


@pytest.mark.vendor_fact("zoho.list.date_range")
@pytest.mark.parametrize(
    ("mode", "days"), [("bulk", 30), ("individual", 3)], ids=["bulk-month", "individual"]
)
def test_a_lost_store_rebuilt_adopts_everything_and_creates_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, mode: str, days: int
) -> None:
    _sync_lose_and_sync_again(shop, monkeypatch, mode, days)
    text = shop.cli("sync", "shop", "--force")
    assert "adopted" not in text.output  # adoption is done once per organization


@pytest.mark.vendor_fact("zoho.list.date_range")
@pytest.mark.parametrize("date_filter", [f for f in DATE_FILTERS if f != DEFAULT_DATE_FILTER])
def test_adoption_finds_everything_whatever_zoho_makes_of_the_date_range(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, date_filter: str
) -> None:
    """The other readings of ``date_start``/``date_end`` (the default one runs above): the
    end day counted, or the range ignored (every row comes back)."""
    shop.zoho_api.date_filter = date_filter
    _sync_lose_and_sync_again(shop, monkeypatch, "individual", 3)


def test_a_rebuilt_store_says_what_it_adopted(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    now = clock.now()
    since = local_midnight(now, 3)
    seed_sales(shop.charges_api, since)
    org = shop.zoho_api.create_organization("Shop Pte Ltd")
    shop.adopt(org)
    _connect_through_cli(shop, org, since)
    assert shop.cli("sync", "shop").exit_code == 0
    _lose_the_store(shop, monkeypatch)
    _connect_through_cli(shop, org, since, take_over=True)
    shop.charges_api.add_charge(amount=Decimal("9.90"),
                                created_at=since + timedelta(days=2, hours=9))  # fmt: skip

    result = shop.cli("sync", "shop")

    assert result.exit_code == 0, result.output
    assert "adopted (already in the books under their keys, not created): " in result.output
    assert "created: 1 expense, 1 invoice, 1 payment" in result.output  # only the new day
    assert_ties_out(shop, since, now)
