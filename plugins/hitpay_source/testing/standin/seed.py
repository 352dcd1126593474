"""Realistic HitPay data from a seed number: channels, currencies, fees, refunds.

Same seed, same data. Mostly SGD card sales with some USD and JPY, PayNow and manual sales,
failed and pending attempts (not sales), an unknown raw channel, and partial and full refunds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.api import quantize

__all__ = ["CHANNEL_WEIGHTS", "UNKNOWN_CHANNEL", "SeededCharge", "fees_for", "plan_seed"]

# Raw values as HitPay sends them; ``api_quickbooks`` is real but not a channel users pick.
UNKNOWN_CHANNEL = "api_quickbooks"
CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("api_link", 14),
    ("link_sent", 4),
    ("point_of_sale", 18),
    ("api_shopify", 12),
    ("api_woocomm", 8),
    ("api_store", 8),
    ("invoice", 5),
    ("api_custom", 5),
    ("api_recurring_dashboard", 5),
    ("api_xero", 3),
    ("api_google_forms", 2),
    ("api_prestashop", 2),
    ("api_magento", 2),
    ("api_ecwid", 2),
    ("api_opencart", 2),
    ("api_wix", 2),
    (UNKNOWN_CHANNEL, 3),
)
_CURRENCIES = (("sgd", 75, None), ("usd", 15, "1.35120"), ("jpy", 10, "0.00880"))
_NAMES = ("Mei Ling", "Arjun", "Siti", "Kenji", "Olivia", "Ahmad", "Chloe", "Ravi", "Hana")
_LOCATIONS = ({"name": "Tanjong Pagar", "address": "7 Wallich St, Singapore 078884"},)


@dataclass(frozen=True)
class SeededCharge:
    """A charge to create and the refunds to apply to it (amount, when)."""

    fields: dict[str, Any]
    refunds: tuple[tuple[Decimal, datetime], ...]


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [weight for _, weight in weighted])[0]


def _amount(rng: random.Random, currency: str) -> Decimal:
    if currency == "jpy":
        return Decimal(rng.randrange(500, 50_000, 10))
    return Decimal(rng.randrange(500, 50_000)) / 100


def fees_for(
    amount: Decimal, currency: str, method: str = "visa", status: str = "succeeded"
) -> tuple[Decimal, Decimal, Decimal]:
    """HitPay's fixed fee, discount fee and discount fee rate (%) for a sale."""
    code = currency.upper()
    if status == "succeeded_manually":
        return Decimal(0), Decimal(0), Decimal(0)
    rate = Decimal("0.65") if method == "paynow" else Decimal("3.4")
    fixed = Decimal(50) if currency == "jpy" else Decimal("0.50")
    if method == "paynow":
        fixed = Decimal(0)
    return quantize(fixed, code), quantize(amount * rate / 100, code), rate


def _refunds(
    rng: random.Random, amount: Decimal, currency: str, created: datetime, until: datetime
) -> tuple[tuple[Decimal, datetime], ...]:
    roll = rng.random()
    first = created + timedelta(minutes=rng.randrange(30, 2 * 24 * 60))
    if roll > 0.12 or first >= until:
        return ()
    if roll < 0.04:  # full refund at once
        return ((amount, first),)
    part = quantize(amount * Decimal(rng.randrange(10, 60)) / 100, currency.upper())
    if part <= 0:
        return ()
    if roll < 0.06:  # partial, then the rest
        second = first + timedelta(minutes=rng.randrange(10, 24 * 60))
        if second < until:
            return ((part, first), (amount - part, second))
    return ((part, first),)


def plan_seed(seed: int, start: date, days: int, timezone: str, per_day: int) -> list[SeededCharge]:
    """The charges (and their refunds) of ``days`` days from ``start`` in ``timezone``."""
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    until = datetime.combine(start + timedelta(days=days), time(), zone)
    planned: list[SeededCharge] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        for _ in range(max(0, per_day + rng.randint(-per_day // 3, per_day // 3))):
            planned.append(_one(rng, day, zone, until))
    return planned


def _one(rng: random.Random, day: date, zone: ZoneInfo, until: datetime) -> SeededCharge:
    moment = datetime.combine(day, time(), zone) + timedelta(seconds=rng.randrange(86_400))
    currency = _pick(rng, tuple((code, weight) for code, weight, _ in _CURRENCIES))
    rate = next(rate for code, _, rate in _CURRENCIES if code == currency)
    channel = _pick(rng, CHANNEL_WEIGHTS)
    status = _pick(
        rng, (("succeeded", 88), ("succeeded_manually", 4), ("failed", 6), ("pending", 2))
    )
    method = _pick(rng, (("visa", 45), ("mastercard", 25), ("amex", 8), ("paynow", 22)))
    if currency != "sgd" and method == "paynow":
        method = "visa"
    amount = _amount(rng, currency)
    fixed, discount, fee_rate = fees_for(amount, currency, method, status)
    name = rng.choice(_NAMES)
    fields: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "created_at": moment,
        "status": status,
        "channel": channel,
        "fixed_fee": fixed,
        "discount_fee": discount,
        "discount_fee_rate": fee_rate,
        "method": method,
        "exchange_rate": rate,
        "customer": {
            "name": name,
            "email": f"{name.lower().replace(' ', '.')}@example.com",
            "phone_number": f"65{rng.randrange(80_000_000, 99_999_999)}",
        },
        "order_reference_number": str(rng.randrange(1000, 99_999)),
        "remark": f"Order #{rng.randrange(1000, 99_999)}",
    }
    if channel == "point_of_sale":
        fields["location"] = {"id": "96e21521-3c8a-4c21-b76d-558d2cb8b846", **_LOCATIONS[0]}
    refunds = _refunds(rng, amount, currency, moment, until) if status == "succeeded" else ()
    return SeededCharge(fields, refunds)
