"""The JSON shapes of HitPay's charges and refunds, with HitPay's real field names and types.

Checked against HitPay's OpenAPI document by ``tests/hitpay/test_standin_schema.py``:
``currency`` lower case, amounts JSON numbers, timestamps ISO 8601 with the business's offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "DETAIL_ONLY",
    "PAYMENT_METHODS",
    "charge_payload",
    "listed",
    "refund_payload",
    "stamp",
]

# Fields GET /v1/charges/{id} adds to what GET /v1/charges lists.
DETAIL_ONLY = ("amount_without_fees", "refunded_amount", "refunds", "webhook_logs", "terminal_id")

_ICONS = "https://api.sandbox.hit-pay.com/icons/methods"


def _logo(method: str, display: str) -> dict[str, str]:
    logo = {size: f"{_ICONS}/{size}/{method}.png" for size in ("sm", "md", "lg")}
    logo |= {
        "svg": f"{_ICONS}/svg/{method}.svg",
        "svg_square": f"{_ICONS}/svg_square/{method}.svg",
        "png_square": f"{_ICONS}/png_square/{method}.png",
        "method": method,
        "iconName": method,
        "displayName": display,
    }
    return logo


def _card(code: str, brand: str, last4: str, country: tuple[str, str]) -> dict[str, Any]:
    return {
        "code": code,
        "display_logo": _logo(brand.lower().replace(" ", "_"), brand),
        "provider_reference": "",
        "type": "charge",
        "name": "card",
        "method_logo": _logo("card", "Cards"),
        "data": {"brand": brand, "last4": last4, "country_code": country[0], "country": country[1]},
    }


PAYMENT_METHODS: dict[str, dict[str, Any]] = {
    "visa": _card("stripe_sg", "Visa", "4242", ("SG", "Singapore")),
    "mastercard": _card("stripe_sg", "Mastercard", "4444", ("US", "United States of America")),
    "amex": _card("stripe_sg", "American Express", "0005", ("JP", "Japan")),
    "paynow": {
        "code": "dbs_sg",
        "display_logo": _logo("paynow", "PayNow"),
        "provider_reference": "",
        "type": "charge",
        "name": "paynow_online",
        "method_logo": _logo("paynow", "PayNow"),
        "data": {"brand": "PayNow", "last4": "", "country_code": "SG", "country": "Singapore"},
    },
}


def stamp(moment: datetime) -> str:
    """A charge timestamp as HitPay writes it: ``2024-09-04T16:05:21+08:00``."""
    return moment.isoformat(timespec="seconds")


def charge_payload(
    *,
    charge_id: str,
    amount: Decimal,
    currency: str,
    created_at: datetime,
    status: str,
    channel: str,
    fixed_fee: Decimal,
    discount_fee: Decimal,
    discount_fee_rate: Decimal,
    method: str,
    customer_id: str,
    customer: dict[str, str],
    home_currency: str = "sgd",
    exchange_rate: str | None = None,
    remark: str = "",
    order_reference_number: str = "",
    payment_request_id: str | None = None,
    location: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One charge as ``GET /v1/charges/{id}`` returns it (list items drop ``DETAIL_ONLY``)."""
    payment_method = dict(PAYMENT_METHODS[method])
    payment_method["provider_reference"] = f"ch_{charge_id.replace('-', '')[:24]}"
    return {
        "id": charge_id,
        "currency": currency,
        "home_currency": home_currency,
        "exchange_rate": exchange_rate,
        "amount": amount,
        "amount_without_fees": amount - fixed_fee - discount_fee,
        "refunded_amount": Decimal(0),
        "fixed_fee": fixed_fee,
        "discount_fee": discount_fee,
        "discount_fee_rate": discount_fee_rate,
        "remark": remark,
        "status": status,
        "payment_method": payment_method,
        "customer_id": customer_id,
        "customer": customer,
        "payment_request_id": payment_request_id,
        "webhook_status": False,
        "order_reference_number": order_reference_number,
        "executor": None,
        "location": location,
        "channel": channel,
        "admin_fee": False,
        "refunds": [],
        "webhook_logs": [],
        "terminal_id": None,
        "closed_at": stamp(created_at),
        "created_at": stamp(created_at),
        "updated_at": stamp(created_at),
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def listed(payload: dict[str, Any]) -> dict[str, Any]:
    """A charge as ``GET /v1/charges`` lists it."""
    return {key: value for key, value in payload.items() if key not in DETAIL_ONLY}


def refund_payload(
    *,
    refund_id: str,
    charge: dict[str, Any],
    amount: Decimal,
    at: datetime,
) -> dict[str, Any]:
    """A refund as ``POST /v1/refund`` and ``GET /v1/refund/{id}`` return it (times in UTC
    with microseconds, as in HitPay's ``GET /v1/refund/{id}`` example)."""
    method = charge.get("payment_method")
    return {
        "id": refund_id,
        "refunded_by": None,
        "payment_id": charge.get("id"),
        "amount_refunded": amount,
        "total_amount": charge.get("amount"),
        "currency": charge.get("currency"),
        "status": "succeeded",
        "payment_method": method.get("name", "card") if isinstance(method, dict) else "card",
        "provider_fee": None,
        "provider_fee_currency": None,
        "refunded_at": _utc(at),
        "created_at": _utc(at),
    }
