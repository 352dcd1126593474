"""A fund transfer never crosses currencies (zoho.banktransaction.fx): Zoho Books does not say
what it does with a transfer between bank accounts kept in different currencies, so the stand-in
refuses one (variant: accepts one that carries an ``exchange_rate``), and with one clearing and
one payout account per currency the client books every payout inside its own currency under
both variants."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core import clock
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight
from e2e.test_currency_accounts import _usd_bank_accounts
from e2e.test_payouts import _connect, _month
from plugins.zoho_books.testing.standin.banking import create_transfer
from plugins.zoho_books.testing.standin.errors import ApiError

pytestmark = pytest.mark.vendor_fact("zoho.banktransaction.fx")


@pytest.mark.parametrize("with_rate", [False, True], ids=["refused", "accepted-with-rate"])
def test_payouts_in_two_currencies_never_cross_currencies(shop: Shop, with_rate: bool) -> None:
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
    api = shop.zoho_api
    with api.lock:
        books = api.organizations[shop.organization_id]
        books.fx_transfers_with_rate = with_rate
        base = books.base_currency().currency_id
        kept = {a.account_id: a.currency_id or base for a in books.accounts.values()}
        usd = next(c.currency_id for c in books.currencies.values() if c.currency_code == "USD")

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded", report.error
    assert report.held_payouts == {}
    transfers = [d for d in shop.books() if d["kind"] == "transfer"]
    assert {t["currency_code"] for t in transfers} == {"SGD", "USD"}
    for transfer in transfers:
        assert kept[transfer["from_account_id"]] == kept[transfer["to_account_id"]], transfer
        assert kept[transfer["from_account_id"]] == transfer["currency_id"], transfer

    # The rule the client keeps away from: a transfer from the SGD clearing account to the
    # USD operating account.
    seeded = shop.zoho.connected[shop.name]
    body = {
        "transaction_type": "transfer_fund",
        "from_account_id": seeded.bank_account,
        "to_account_id": operating,
        "amount": Decimal("10.00"),
        "date": day0.date().isoformat(),
        "currency_id": usd,
    }
    with api.lock:
        with pytest.raises(ApiError, match="kept in different currencies"):
            create_transfer(books, body)
        if with_rate:
            assert create_transfer(books, body | {"exchange_rate": "0.74"}).amount == 10
        else:
            with pytest.raises(ApiError, match="kept in different currencies"):
                create_transfer(books, body | {"exchange_rate": "0.74"})


@pytest.mark.parametrize("given", ["--bank-account", "--payout-account"])
def test_a_currency_with_only_one_of_its_two_accounts_is_refused_in_one_line(
    shop: Shop, given: str
) -> None:
    shop.connect(mode="bulk")
    seeded = shop.zoho.connected[shop.name]
    clearing, operating = _usd_bank_accounts(shop)
    saved = shop.cli("settings", "shop", "--payout-account", seeded.other_bank_account)
    assert saved.exit_code == 0, saved.output
    account = clearing if given == "--bank-account" else operating
    other = "--payout-account" if given == "--bank-account" else "--bank-account"

    refused = shop.cli("settings", "shop", given, f"USD={account}")

    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "a transfer cannot cross currencies" in refused.output
    assert f"give {other} USD=ID as well" in refused.output
    pair = {"--bank-account": clearing, "--payout-account": operating}
    both = shop.cli("settings", "shop", given, f"USD={account}", other, f"USD={pair[other]}")
    assert both.exit_code == 0, both.output
