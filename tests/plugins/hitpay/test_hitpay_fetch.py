"""Fetching charges over HTTP from the stand-in: pages, dates, channels, malformed records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from hitpay.conftest import SourceFactory, split, window
from plugins.hitpay_source.parsing import SALE_STATUSES
from plugins.hitpay_source.testing.standin import UNKNOWN_CHANNEL, HitPayStandIn


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.vendor_fact("hitpay.charges.pagination_cursor", "hitpay.charges.list_params")
def test_pagination_across_many_pages_yields_every_sale_once(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    seeded = standin.seed(11, date(2026, 3, 1), days=10, timezone="Asia/Singapore", per_day=30)
    source, calls = open_source(per_page=7)
    start, end = _moment("2026-03-02T00:00:00+08:00"), _moment("2026-03-09T00:00:00+08:00")
    expected = {
        c["id"]
        for c in seeded
        if c["status"] in SALE_STATUSES and start <= _moment(c["created_at"]) < end
    }

    charges, _, quarantined = split(list(source.fetch(window(start, end, start), {})))

    assert quarantined == []
    assert [c.source_id for c in charges if c.source_id in expected] == [
        c.source_id for c in charges
    ]
    assert sorted(c.source_id for c in charges) == sorted(expected)
    listing = [r for r in standin.requests if r.path == "/v1/charges" and not r.param("statuses[]")]
    assert len(listing) > 20  # 7 per page over ~8 days of ~30 charges
    assert [r.param("cursor") is None for r in listing].count(True) == 1
    assert all(r.param("per_page") == "7" for r in listing)
    assert calls.total == len(standin.requests)  # every HTTP request counted, no more


@pytest.mark.vendor_fact(
    "hitpay.charge.fields",
    "hitpay.charge.currency_case",
    "hitpay.charge.fees",
    "hitpay.charge.fees_currency",
    "hitpay.charge.amount_types",
)
def test_charge_fields_follow_hitpay(standin: HitPayStandIn, open_source: SourceFactory) -> None:
    created = _moment("2026-03-04T16:05:21+08:00")
    standin.add_charge(
        amount=Decimal("70.56"),
        currency="sgd",
        fixed_fee=Decimal("0.60"),
        discount_fee=Decimal("2.57"),
        created_at=created,
        channel="api_shopify",
        remark="Order #1007",
        exchange_rate="1.00000",
    )
    standin.add_charge(
        amount=Decimal(15000),
        currency="jpy",
        fixed_fee=Decimal("0.50"),
        discount_fee=Decimal("4.12"),
        fees_currency="sgd",
        created_at=created,
        channel="point_of_sale",
    )
    source, _ = open_source()
    charges, _, _ = split(list(source.fetch(window(created, created + timedelta(1)), {})))
    by_currency = {c.currency: c for c in charges}

    sgd = by_currency["SGD"]
    assert (sgd.amount, sgd.fee, sgd.fee_currency) == (Decimal("70.56"), Decimal("3.17"), "SGD")
    assert sgd.created_at == created and sgd.created_at.utcoffset() == timedelta(hours=8)
    assert (sgd.channel, sgd.raw_channel, sgd.description) == (
        "shopify",
        "api_shopify",
        "Order #1007",
    )
    assert sgd.exchange_rate == Decimal("1.00000")
    assert sgd.raw["amount"] == "70.56" and sgd.raw["currency"] == "sgd"
    jpy = by_currency["JPY"]
    assert (jpy.amount, jpy.fee, jpy.fee_currency) == (Decimal(15000), Decimal("4.62"), "SGD")
    assert jpy.channel == "point_of_sale"


def test_only_sales_are_yielded(standin: HitPayStandIn, open_source: SourceFactory) -> None:
    at = _moment("2026-03-04T12:00:00+08:00")
    statuses = ["succeeded", "succeeded_manually", "failed", "pending", "void", "cancelled"]
    ids = {status: standin.add_charge(status=status, created_at=at)["id"] for status in statuses}
    refunded = standin.add_charge(created_at=at, amount=Decimal("20.00"))["id"]
    standin.refund(refunded, Decimal("5.00"), at=at + timedelta(hours=1))
    source, _ = open_source()

    charges, _, quarantined = split(list(source.fetch(window(at, at + timedelta(hours=1)), {})))

    assert quarantined == []
    assert {c.source_id for c in charges} == {ids["succeeded"], ids["succeeded_manually"], refunded}


@pytest.mark.vendor_fact("hitpay.charges.date_filter_zone")
def test_date_margin_near_midnight_at_plus_eight(open_source: SourceFactory) -> None:
    with HitPayStandIn(timezone="Asia/Singapore") as hitpay:
        inside_late = hitpay.add_charge(created_at=_moment("2026-03-05T07:30:00+08:00"))["id"]
        inside_first = hitpay.add_charge(created_at=_moment("2026-03-04T08:00:00+08:00"))["id"]
        hitpay.add_charge(created_at=_moment("2026-03-05T08:00:00+08:00"))  # == end: excluded
        hitpay.add_charge(created_at=_moment("2026-03-04T07:59:59+08:00"))  # before start
        source, _ = open_source(api_url=hitpay.url, api_key=hitpay.api_key)
        start = datetime(2026, 3, 4, tzinfo=UTC)

        charges, _, _ = split(list(source.fetch(window(start, start + timedelta(1)), {})))

        # The stand-in dates 07:30+08:00 on 5 March; without the margin it would be missed.
        assert {c.source_id for c in charges} == {inside_late, inside_first}
        first = hitpay.requests[0]
        assert (first.param("date_from"), first.param("date_to")) == ("2026-03-03", "2026-03-06")


@pytest.mark.vendor_fact("hitpay.charges.date_filter_zone")
def test_date_margin_near_midnight_at_minus_five(open_source: SourceFactory) -> None:
    with HitPayStandIn(timezone="America/Bogota") as hitpay:
        inside = hitpay.add_charge(created_at=_moment("2026-03-04T19:00:00-05:00"))["id"]
        hitpay.add_charge(created_at=_moment("2026-03-04T18:59:59-05:00"))  # before start
        last = hitpay.add_charge(created_at=_moment("2026-03-05T18:59:59-05:00"))["id"]
        hitpay.add_charge(created_at=_moment("2026-03-05T19:00:00-05:00"))  # == end
        source, _ = open_source(api_url=hitpay.url, api_key=hitpay.api_key)
        start = datetime(2026, 3, 5, tzinfo=UTC)

        charges, _, _ = split(list(source.fetch(window(start, start + timedelta(1)), {})))

        # The stand-in dates 19:00-05:00 on 4 March, a day before the window's UTC date.
        assert {c.source_id for c in charges} == {inside, last}
        assert all(c.created_at.utcoffset() == timedelta(hours=-5) for c in charges)


@pytest.mark.vendor_fact("hitpay.charge.channel")
def test_unknown_channel_is_kept_and_never_filed_under_a_known_one(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    at = _moment("2026-03-04T12:00:00+08:00")
    for raw in (UNKNOWN_CHANNEL, "api_tiktok_shop", "api_link", "API_WOOCOMM"):
        standin.add_charge(channel=raw, created_at=at)
    standin.add_charge(created_at=at, drop=["channel"])
    source, _ = open_source()

    charges, _, quarantined = split(list(source.fetch(window(at, at + timedelta(1)), {})))

    assert quarantined == []
    assert sorted((c.raw_channel or "", c.channel or "") for c in charges) == [
        ("", ""),
        ("API_WOOCOMM", "woocommerce"),
        ("api_link", "payment_links"),
        (UNKNOWN_CHANNEL, ""),
        ("api_tiktok_shop", ""),
    ]


@pytest.mark.vendor_fact("hitpay.charge.timestamps")
def test_each_malformed_shape_is_quarantined_while_the_rest_syncs(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    at = _moment("2026-03-04T12:00:00+08:00")
    good = [standin.add_charge(created_at=at + timedelta(minutes=i))["id"] for i in range(3)]
    standin.add_charge(created_at=at, drop=["id"])
    bad = {
        "amount is missing": standin.add_charge(created_at=at, drop=["amount"]),
        "amount: amount 'abc' is not a number": standin.add_charge(created_at=at, amount="abc"),
        "unknown currency 'xyz'": standin.add_charge(created_at=at, currency="xyz"),
        "created_at 'yesterday' is not an ISO 8601": standin.add_charge(
            created_at="yesterday", listed_at=at
        ),
        "has no time zone offset": standin.add_charge(
            created_at="2026-03-04T12:00:00", listed_at=at
        ),
        "more decimals than SGD allows": standin.add_charge(created_at=at, amount=Decimal("9.999")),
        "unknown charge status 'weird'": standin.add_charge(created_at=at, status="weird"),
    }
    source, _ = open_source(per_page=4)

    charges, _, quarantined = split(list(source.fetch(window(at, at + timedelta(1)), {})))

    assert sorted(c.source_id for c in charges) == sorted(good)
    no_id = [q for q in quarantined if q.source_id is None]
    assert [q.reason for q in no_id] == ["charge has no id"]
    assert "id" not in no_id[0].payload and no_id[0].payload["amount"] == 10
    by_id = {q.source_id: q for q in quarantined if q.source_id}
    assert len(by_id) == len(bad) and len(quarantined) == len(bad) + 1
    for reason, payload in bad.items():
        item = by_id[payload["id"]]
        assert reason in item.reason, (reason, item.reason)
        assert item.kind == "charge" and item.payload["id"] == payload["id"]


def test_a_late_charge_is_found_by_the_overlap_of_the_next_run(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    at = _moment("2026-03-04T23:50:00+08:00")
    on_time = standin.add_charge(created_at=at - timedelta(minutes=5))["id"]
    late = standin.add_charge(created_at=at, hidden=True)["id"]
    source, _ = open_source()
    state: dict[str, object] = {}
    first_end = at + timedelta(minutes=5)

    first, _, _ = split(list(source.fetch(window(at - timedelta(1), first_end), state)))
    standin.release(late)
    # The next run starts an overlap before where the first one ended.
    second, _, _ = split(
        list(source.fetch(window(first_end - timedelta(hours=1), at + timedelta(1)), state))
    )

    assert [c.source_id for c in first] == [on_time]
    assert {c.source_id for c in second} == {on_time, late}  # re-read: the host upserts by id
    assert next(c for c in second if c.source_id == on_time) == first[0]
