"""Two payout streams per currency (hitpay.payouts.two_balances): HitPay keeps a HitPay Balance
and a Card Balance, each with its own payouts. Whether ``GET /v1/payouts`` lists the card ones
is not known, so both variants run: every payout the API lists is booked the same way (one
transfer, key ``hitpay:payout:<id>``) whichever balance it came from, and reconcile ties."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core import clock
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight
from e2e.test_payouts import _connect

pytestmark = pytest.mark.vendor_fact("hitpay.payouts.two_balances")


def _two_streams(shop: Shop, day0: datetime) -> list[dict[str, Any]]:
    """Card and PayNow sales in SGD and USD after the sync is enabled and two days of payouts
    from both balances; every payout made, listed or not. (A card refund between two payouts
    is left out: the client puts a refund on the first payout after it in its currency,
    whichever balance that payout came from; see the issue 13 note.)"""
    api = shop.charges_api
    api.payouts.card_balance = True

    def at(day: int, hour: int) -> datetime:
        return day0 + timedelta(days=day, hours=hour)

    api.add_charge(amount=Decimal("120.00"), created_at=at(1, 9))
    api.add_charge(amount=Decimal("50.00"), method="paynow", created_at=at(1, 10))
    api.add_charge(amount=Decimal("45.50"), currency="usd", created_at=at(1, 11))
    api.add_charge(amount=Decimal("30.00"), currency="usd", method="paynow", created_at=at(1, 12))
    api.payouts.schedule(at(2, 0).date(), 1)
    api.add_charge(amount=Decimal("60.00"), created_at=at(2, 14))
    api.add_charge(amount=Decimal("15.00"), method="paynow", created_at=at(2, 15))
    api.payouts.schedule(at(3, 0).date(), 1)
    return api.payouts.listing()


@pytest.mark.parametrize("card_listed", [False, True], ids=["hitpay-balance-only", "both"])
def test_payouts_from_either_balance_are_booked_the_same_way(shop: Shop, card_listed: bool) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    made = _two_streams(shop, day0)
    card = [p for p in made if "card balance" in p["remark"]]
    assert {p["currency"] for p in card} == {"sgd", "usd"}
    assert {p["currency"] for p in made if p not in card} == {"sgd", "usd"}
    shop.charges_api.payouts.card_payouts_listed = card_listed
    listed = shop.charges_api.payouts.listing()
    assert len(listed) == (len(made) if card_listed else len(made) - len(card))
    _connect(shop, enabled)

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded", report.error
    assert report.held_payouts == {}
    transfers = {d["reference_number"]: d for d in shop.books() if d["kind"] == "transfer"}
    assert set(transfers) == {f"hitpay:payout:{p['id']}" for p in listed}
    clearing = shop.zoho.connected[shop.name].bank_account
    for payout in listed:
        transfer = transfers[f"hitpay:payout:{payout['id']}"]
        assert Decimal(transfer["amount"]) == Decimal(payout["amount"])
        assert transfer["currency_code"] == payout["currency"].upper()
        assert transfer["from_account_id"] == clearing
    assert not [d["notes"] for d in shop.books() if d["kind"] == "adjustment"]
    unlisted = [] if card_listed else card
    for currency in ("SGD", "USD"):
        waiting = sum(
            (Decimal(p["amount"]) for p in unlisted if p["currency"].upper() == currency),
            Decimal(0),
        )
        # What an unlisted card payout took out of HitPay is still in clearing, nothing else.
        assert shop.clearing().get(currency, Decimal(0)) == waiting

    reconciled = shop.cli("reconcile", "shop", "--json")
    report_json = json.loads(reconciled.output)
    assert reconciled.exit_code == (0 if card_listed else 1), reconciled.output
    assert report_json["ties"] is card_listed
    for view in report_json["currencies"]:
        waiting = sum(
            (Decimal(p["amount"]) for p in unlisted if p["currency"].upper() == view["currency"]),
            Decimal(0),
        )
        assert Decimal(view["ledger"]) - Decimal(view["gateway_total"]) == waiting
        if waiting:
            (line,) = view["differences"]
            assert f"{-waiting} {view['currency']}" in line
            assert "payouts the gateway does not list" in line
    again = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=5)))
    assert again.outcome == "succeeded" and sum(again.documents_planned.values()) == 0
