"""Charge payloads -> records: exact money, kept offsets, the channel taxonomy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.contracts import FetchWindow
from core.money import minor_units
from core.records import Charge, Quarantined
from plugins.hitpay_source.channels import CHANNELS, RAW_CHANNELS, channel_for
from plugins.hitpay_source.parsing import parse_charge, read_listed_charge
from plugins.hitpay_source.testing.standin.wire import to_json

ISSUE_SLUGS = [
    "shopify",
    "wix",
    "woocommerce",
    "prestashop",
    "magento",
    "ecwid",
    "opencart",
    "payment_links",
    "invoice",
    "online_store",
    "point_of_sale",
    "custom_api",
    "recurring_billing",
    "google_forms",
    "xero",
]


def test_the_channels_are_exactly_the_ones_users_pick_from() -> None:
    assert list(CHANNELS) == ISSUE_SLUGS
    assert CHANNELS["point_of_sale"] == "Point of Sale" and CHANNELS["custom_api"] == "Custom API"
    assert set(RAW_CHANNELS.values()) <= set(CHANNELS)
    assert set(RAW_CHANNELS.values()) == set(CHANNELS)  # every channel is reachable


def test_raw_channel_values_map_and_unknown_ones_do_not() -> None:
    assert channel_for("api_recurring_dashboard") == "recurring_billing"
    assert channel_for(" Point_Of_Sale ") == "point_of_sale"
    assert channel_for("api_quickbooks") is None
    assert channel_for("default") is None
    assert channel_for(None) is None and channel_for(42) is None


def _money(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


@given(
    currency=st.sampled_from(["SGD", "USD", "JPY", "KWD", "MYR"]),
    units=st.integers(min_value=1, max_value=10**12),
    fixed=st.integers(min_value=0, max_value=10**6),
    discount=st.integers(min_value=0, max_value=10**8),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_amounts_cross_the_wire_exactly_and_fees_add_up(
    currency: str, units: int, fixed: int, discount: int, offset_minutes: int
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    created = datetime(2026, 3, 4, 12, 0, 1, tzinfo=zone)
    payload = {
        "id": "c1",
        "currency": currency.lower(),
        "amount": _money(units, currency),
        "fixed_fee": _money(fixed, currency),
        "discount_fee": _money(discount, currency),
        "status": "succeeded",
        "channel": "api_link",
        "created_at": created.isoformat(),
    }
    wire = json.loads(to_json(payload), parse_float=Decimal)  # as HitPay sends, as we read

    charge = parse_charge(wire)

    assert charge.amount == _money(units, currency) and charge.currency == currency
    assert charge.fee == _money(fixed, currency) + _money(discount, currency)
    assert charge.fee_currency == currency
    assert charge.created_at == created and charge.created_at.utcoffset() == zone.utcoffset(None)
    assert json.loads(json.dumps(charge.raw)) == charge.raw  # JSON-safe for the store


def test_missing_fees_are_zero_but_garbage_fees_are_not() -> None:
    base = {
        "id": "c1",
        "currency": "sgd",
        "amount": Decimal("5"),
        "created_at": "2026-03-04T12:00:00Z",
    }
    assert parse_charge(base).fee == Decimal(0)
    window = FetchWindow(
        start=datetime(2026, 3, 4, tzinfo=UTC),
        end=datetime(2026, 3, 5, tzinfo=UTC),
        refunds_since=datetime(2026, 1, 1, tzinfo=UTC),
    )
    result = read_listed_charge({**base, "status": "succeeded", "discount_fee": "n/a"}, window)
    assert isinstance(result, Quarantined) and result.reason.startswith("discount_fee:")
    assert isinstance(read_listed_charge({**base, "status": "succeeded"}, window), Charge)
    assert isinstance(read_listed_charge(["not", "a", "charge"], window), Quarantined)
    assert read_listed_charge({**base, "status": "failed", "amount": "x"}, window) is None
