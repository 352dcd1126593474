"""One clearing and one payout account per currency where needed: a Zoho Books bank account is
kept in one currency, so `--bank-account` and `--payout-account` take CUR=ID pairs beside a
default; each pair is checked against the account's own currency, and a payout in a currency
with no account is held with one line saying which currency lacks one."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from core import clock
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight
from e2e.test_payouts import _connect, _month

pytestmark = pytest.mark.vendor_fact("zoho.bankaccount.currency")


def _usd_bank_accounts(shop: Shop) -> tuple[str, str]:
    """A USD clearing account and a USD operating account, made in Zoho Books."""
    with shop.zoho_api.lock:
        books = shop.zoho_api.organizations[shop.organization_id]
        usd = next(c.currency_id for c in books.currencies.values() if c.currency_code == "USD")
        clearing = books.add_account("HitPay Clearing USD", "bank", currency_id=usd)
        operating = books.add_account("Operating Account USD", "bank", currency_id=usd)
    return clearing, operating


def test_each_currency_clears_and_pays_out_through_its_own_accounts(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    clearing, operating = _usd_bank_accounts(shop)
    saved = shop.cli(
        "settings",
        "shop",
        "--bank-account",
        f"USD={clearing}",
        "--payout-account",
        f"USD={operating}",
    )
    assert saved.exit_code == 0, saved.output
    assert f"bank accounts by currency: USD={clearing}" in saved.output
    assert f"payout accounts by currency: USD={operating}" in saved.output

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded", report.error
    seeded = shop.zoho.connected[shop.name]
    books = shop.books()
    for document in books:
        usd = (document.get("currency") or document.get("currency_code")) == "USD"
        if document["kind"] == "payment":
            assert document["account_id"] == (clearing if usd else seeded.bank_account)
        if document["kind"] == "transfer":
            assert (document["from_account_id"], document["to_account_id"]) == (
                (clearing, operating) if usd else (seeded.bank_account, seeded.other_bank_account)
            )
    assert any(d["kind"] == "transfer" and d["currency_code"] == "USD" for d in books)
    reconciled = shop.cli("reconcile", "shop", "--json")
    assert reconciled.exit_code == 0, reconciled.output
    views = {v["currency"]: v for v in json.loads(reconciled.output)["currencies"]}
    assert Decimal(views["USD"]["books"]) == Decimal(views["USD"]["delivered"]) == 0
    assert shop.cli("verify", "shop").exit_code == 0


def test_a_pair_is_checked_against_the_accounts_own_currency(shop: Shop) -> None:
    shop.connect(mode="bulk")
    seeded = shop.zoho.connected[shop.name]
    clearing, _ = _usd_bank_accounts(shop)

    wrong = shop.cli("settings", "shop", "--payout-account", f"USD={seeded.other_bank_account}")
    assert wrong.exit_code == 1
    assert f"payout account for USD ({seeded.other_bank_account}) is kept in SGD" in wrong.output
    default = shop.cli(
        "settings", "shop", "--payout-account", clearing, "--payout-account", "EUR=1"
    )
    assert default.exit_code == 1 and "Traceback" not in default.output
    assert f"the default payout account {clearing} is kept in USD" in default.output
    assert f"give it as USD={clearing}" in default.output
    bad = shop.cli("settings", "shop", "--payout-account", "DOLLAR=1")
    assert bad.exit_code == 1 and "'DOLLAR' is not a currency code" in bad.output
    empty = shop.cli("settings", "shop", "--payout-account", "USD=")
    assert empty.exit_code == 1 and "names no account" in empty.output
    shown = json.loads(shop.cli("settings", "shop", "--json").output)
    assert shown["payout_account"] is None and shown["payout_accounts_by_currency"] == {}


def test_a_payout_in_a_currency_without_an_account_is_held_in_one_line(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    shop.connect(mode="bulk")
    seeded = shop.zoho.connected[shop.name]
    saved = shop.cli(
        "settings",
        "shop",
        "--payout-account",
        f"SGD={seeded.other_bank_account}",
        "--adjustment-account",
        seeded.adjustment_account,
    )
    assert saved.exit_code == 0, saved.output
    shop.enable(since=enabled, now=enabled)

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded", report.error
    held = set(report.held_payouts.values())
    assert held == {
        "no payout account for USD: set one with `ledgersync settings shop --payout-account USD=ID`"
    }
    transfers = [d for d in shop.books() if d["kind"] == "transfer"]
    assert transfers and {t["currency_code"] for t in transfers} == {"SGD"}
