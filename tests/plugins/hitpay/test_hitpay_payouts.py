"""Payouts: the stand-in pays out its wallet as HitPay does; the source reads them loosely."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from core.records import Payout, Quarantined
from hitpay.conftest import SourceFactory, window
from plugins.hitpay_source.testing.standin import HitPayStandIn

ZONE_DAY = datetime.fromisoformat("2026-03-02T00:00:00+08:00")
ENABLED = datetime.fromisoformat("2026-03-03T00:00:00+08:00")


def _sale(standin: HitPayStandIn, at: datetime, amount: str, **fields: Any) -> dict[str, Any]:
    return standin.add_charge(created_at=at, amount=Decimal(amount), **fields)


def _net(charge: dict[str, Any]) -> Decimal:
    return (
        Decimal(charge["amount"]) - Decimal(charge["fixed_fee"]) - Decimal(charge["discount_fee"])
    )


def _month(standin: HitPayStandIn) -> dict[str, Any]:
    """A charge before enabling, sales after, a refund after a payout, an adjustment."""
    before = _sale(standin, ZONE_DAY + timedelta(hours=11), "80.00")
    first = _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    second = _sale(standin, ENABLED + timedelta(hours=15), "45.50")
    usd = _sale(standin, ENABLED + timedelta(hours=16), "30.00", currency="usd")
    standin.payouts.schedule(date(2026, 3, 3), 2)  # 3rd: the 2nd's sale; 4th: the 3rd's
    refund = standin.refund(first["id"], Decimal("20.00"), at=ENABLED + timedelta(days=1, hours=12))
    standin.payouts.adjust("sgd", Decimal("-5.00"), ENABLED + timedelta(days=1, hours=13))
    third = _sale(standin, ENABLED + timedelta(days=1, hours=14), "60.00")
    standin.payouts.schedule(date(2026, 3, 5), 1)
    return {
        "before": before,
        "first": first,
        "second": second,
        "usd": usd,
        "third": third,
        "refund": refund,
    }


@pytest.mark.vendor_fact("hitpay.payouts.amount_semantics", "hitpay.refund.fee_not_returned")
def test_payouts_pay_out_the_whole_balance_net_of_fees_refunds_and_adjustments(
    standin: HitPayStandIn,
) -> None:
    seeded = _month(standin)
    listing = standin.payouts.listing()
    by_day = [(p["created_at"][:10], p["currency"], Decimal(p["amount"])) for p in listing]
    assert by_day == [
        ("2026-03-05", "sgd", _net(seeded["third"]) - Decimal("20.00") - Decimal("5.00")),
        ("2026-03-04", "sgd", _net(seeded["first"]) + _net(seeded["second"])),
        ("2026-03-04", "usd", _net(seeded["usd"])),
        ("2026-03-03", "sgd", _net(seeded["before"])),
    ]  # newest first
    total = sum(Decimal(p["amount"]) for p in listing if p["currency"] == "sgd")
    sales = sum(_net(seeded[k]) for k in ("before", "first", "second", "third"))
    assert total == sales - Decimal("20.00") - Decimal("5.00")
    assert all(p["status"] == "succeeded" for p in listing)


@pytest.mark.vendor_fact("hitpay.payouts.list")
@pytest.mark.vendor_fact("hitpay.payouts.get")
@pytest.mark.vendor_fact("hitpay.payouts.charges")
@pytest.mark.vendor_fact("hitpay.balances.bare_array")
def test_the_api_lists_payouts_newest_first_by_page_with_their_charges(
    standin: HitPayStandIn,
) -> None:
    seeded = _month(standin)
    headers = {"X-BUSINESS-API-KEY": standin.api_key}
    ids: list[str] = []
    url: str | None = f"{standin.url}/v1/payouts?per_page=2"
    while url:
        page = requests.get(url, headers=headers, timeout=5).json()
        ids += [row["id"] for row in page["data"]]
        url = page["links"]["next"]
    assert ids == [p["id"] for p in standin.payouts.listing()] and len(ids) == 4
    second_payout = ids[1]
    charges = requests.get(
        f"{standin.url}/v1/payouts/{second_payout}/charges", headers=headers, timeout=5
    ).json()["data"]
    assert {row["id"] for row in charges} <= {
        seeded["first"]["id"],
        seeded["second"]["id"],
        seeded["usd"]["id"],
    }
    missing = requests.get(f"{standin.url}/v1/payouts/nope", headers=headers, timeout=5)
    assert missing.status_code == 404
    balances = requests.get(f"{standin.url}/v1/balances", headers=headers, timeout=5).json()
    assert isinstance(balances, list) and {row["currency"] for row in balances} == {"sgd", "usd"}
    assert all({"available", "reserve"} <= set(row["wallets"]) for row in balances)


def _payouts(items: list[Any]) -> list[Payout]:
    return [item for item in items if isinstance(item, Payout)]


def test_the_source_yields_payouts_from_the_enabling_date_with_their_charges(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    seeded = _month(standin)
    source, _ = open_source()
    end = ENABLED + timedelta(days=3)
    items = list(source.fetch(window(ENABLED, end), {}))
    payouts = _payouts(items)
    listing = {p["id"]: p for p in standin.payouts.listing()}
    assert {p.source_id for p in payouts} == {
        pid for pid, p in listing.items() if datetime.fromisoformat(p["created_at"]) >= ENABLED
    }
    for payout in payouts:
        assert payout.amount == Decimal(listing[payout.source_id]["amount"])
        assert payout.currency == listing[payout.source_id]["currency"].upper()
        assert payout.raw["id"] == payout.source_id  # the payload is kept as it came
    pre_enable_payout = next(p for p in payouts if seeded["before"]["id"] in p.charge_ids)
    assert pre_enable_payout.created_at.date() == date(2026, 3, 3)
    assert not [item for item in items if isinstance(item, Quarantined)]


def test_a_pending_payout_is_read_again_until_it_is_paid(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    standin.payouts.status_of_new = "request_pending"
    standin.payouts.schedule(date(2026, 3, 4), 1)
    (pending,) = standin.payouts.listing()
    source, _ = open_source()
    state: dict[str, Any] = {}
    end = ENABLED + timedelta(days=2)
    assert _payouts(list(source.fetch(window(ENABLED, end), state))) == []
    standin.payouts.edit(pending["id"], status="succeeded")
    later = end + timedelta(days=10)  # the window moved on past the payout's date
    found = _payouts(list(source.fetch(window(later - timedelta(days=3), later), state)))
    assert [p.source_id for p in found] == [pending["id"]]


def test_an_unreadable_payout_is_quarantined_with_its_reason_and_the_rest_syncs(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    _sale(standin, ENABLED + timedelta(days=1, hours=9), "10.00")
    standin.payouts.schedule(date(2026, 3, 4), 2)
    newer, older = standin.payouts.listing()
    standin.payouts.edit(newer["id"], amount="12.345")
    standin.payouts.edit(older["id"], status="teleported")
    source, _ = open_source()
    items = list(source.fetch(window(ENABLED, ENABLED + timedelta(days=5)), {}))
    reasons = {item.source_id: item.reason for item in items if isinstance(item, Quarantined)}
    assert "precision" in reasons[newer["id"]] or "amount" in reasons[newer["id"]]
    assert reasons[older["id"]] == "unknown payout status 'teleported'"
    assert all(item.kind == "payout" for item in items if isinstance(item, Quarantined))


def test_failed_payouts_and_payouts_before_enabling_are_not_yielded(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    _sale(standin, ZONE_DAY, "50.00")
    _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    standin.payouts.schedule(date(2026, 3, 3), 2)
    newest, oldest = standin.payouts.listing()
    standin.payouts.edit(newest["id"], status="failed")
    source, _ = open_source()
    items = list(
        source.fetch(window(ENABLED + timedelta(hours=12), ENABLED + timedelta(days=5)), {})
    )
    assert _payouts(items) == [] and not [i for i in items if isinstance(i, Quarantined)]
    assert datetime.fromisoformat(oldest["created_at"]) < ENABLED + timedelta(hours=12)


@pytest.mark.vendor_fact("hitpay.payouts.list")
def test_a_server_without_payouts_syncs_charges_and_says_why_in_the_state(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    standin.fail_next(1, status=404, path="/v1/payouts")
    source, _ = open_source()
    state: dict[str, Any] = {}
    items = list(source.fetch(window(ENABLED, ENABLED + timedelta(days=2)), state))
    assert len(items) == 1 and _payouts(items) == []
    assert "404" in state["payouts_unavailable"]


@pytest.mark.vendor_fact("hitpay.balances.bare_array")
@pytest.mark.parametrize(
    "wrapped, drop, extra",
    [
        (False, (), {}),
        (False, ("pending", "deposit"), {}),
        (False, (), {"in_transit": Decimal("7.50")}),
        (True, (), {}),
    ],
    ids=["as-documented", "optional-wallets-missing", "extra-wallet", "data-wrapper"],
)
def test_the_source_reads_balances_in_every_shape(
    standin: HitPayStandIn,
    open_source: SourceFactory,
    wrapped: bool,
    drop: tuple[str, ...],
    extra: dict[str, Decimal],
) -> None:
    sale = _sale(standin, ENABLED + timedelta(hours=9), "120.00")
    standin.payouts.balances_wrapped = wrapped
    standin.payouts.balances_drop = drop
    standin.payouts.balances_extra = extra
    source, _ = open_source()
    balances = source.balances()
    assert set(balances) == {"SGD"}
    sgd = balances["SGD"]
    held = sgd.available + (sgd.pending if "pending" not in drop else Decimal(0))
    assert held == _net(sale)  # nothing paid out yet: the whole net sale is held
    assert dict(sgd.other) == ({"deposit": Decimal(0)} if "deposit" not in drop else {}) | extra


@pytest.mark.vendor_fact("hitpay.payouts.fields_and_pagination")
@pytest.mark.parametrize("shape", ["cursor", "pages", "bare"])
@pytest.mark.parametrize("amount_as", ["number", "string"])
def test_payouts_are_read_whatever_the_list_shape_and_amount_type(
    standin: HitPayStandIn, open_source: SourceFactory, shape: str, amount_as: str
) -> None:
    for day in range(5):
        _sale(standin, ENABLED + timedelta(days=day, hours=9), f"{100 + day}.00")
    standin.payouts.schedule(date(2026, 3, 4), 5)
    made = standin.payouts.listing()
    assert len(made) == 5
    if amount_as == "string":
        for payout in made:
            standin.payouts.edit(payout["id"], amount=str(payout["amount"]), currency="SGD")
    standin.payouts.listing_shape = shape
    source, _ = open_source(per_page=2)
    items = list(source.fetch(window(ENABLED, ENABLED + timedelta(days=10)), {}))
    found = {p.source_id: p.amount for p in _payouts(items)}
    assert found == {p["id"]: Decimal(str(p["amount"])) for p in made}
    assert not [item for item in items if isinstance(item, Quarantined)]
