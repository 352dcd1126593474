"""HitPay charge payloads -> Charge records, or the reason they cannot be one.

Amounts arrive as JSON numbers already parsed to Decimal (``parse_float=Decimal``); they are
checked against the currency's precision, never rounded. Timestamps must carry an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.api import BadRecord, Charge, FetchWindow, Quarantined, is_known_currency, parse_amount
from plugins.hitpay_source.channels import channel_for

__all__ = [
    "NON_SALE_STATUSES",
    "SALE_STATUSES",
    "json_safe",
    "not_a_sale",
    "parse_charge",
    "parse_currency",
    "parse_timestamp",
    "read_listed_charge",
]

SALE_STATUSES = frozenset({"succeeded", "succeeded_manually", "refunded", "partially_refunded"})
# Charges that never took the customer's money (HitPay's ChargeStatus values and the statuses
# of its OpenAPI document; docs/vendor-facts.md, hitpay.charge.status_values). Both spellings
# of cancelled occur. A value in neither set is quarantined: it may be a sale we do not know.
_NOT_A_SALE_BECAUSE = {
    "pending": "the payment has not completed",
    "requires_payment_method": "the customer has not given a payment method yet",
    "requires_customer_action": "the payment waits for the customer (e.g. 3-D Secure)",
    "failed": "the payment failed",
    "canceled": "the payment was canceled",
    "cancelled": "the payment was cancelled",
    "void": "the payment was voided",
}
NON_SALE_STATUSES = frozenset(_NOT_A_SALE_BECAUSE)


def not_a_sale(status: object) -> str:
    """Why a charge with ``status`` is not synced, in words for ``ledgersync why``."""
    because = _NOT_A_SALE_BECAUSE.get(status) if isinstance(status, str) else None
    if because is None:
        return f"its status at HitPay is {status!r}, which is not a completed sale"
    return f"its status at HitPay is {status!r}: {because}, so it is not a sale"


def json_safe(value: Any) -> Any:
    """``value`` with every Decimal turned into its exact string, ready for a JSON column."""
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is dict:
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def parse_timestamp(value: object, name: str = "created_at") -> datetime:
    """An aware datetime from an ISO 8601 string with an offset (``Z`` included)."""
    if not isinstance(value, str) or not value.strip():
        raise BadRecord(f"{name} is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord(f"{name} {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadRecord(f"{name} {value!r} has no time zone offset")
    return moment


def parse_currency(value: object, name: str = "currency") -> str:
    """HitPay's lower-case code upper-cased, checked against ISO 4217."""
    if not isinstance(value, str) or not value.strip():
        raise BadRecord(f"{name} is missing")
    code = value.strip().upper()
    if not is_known_currency(code):
        raise BadRecord(f"unknown {name} {value!r}: expected an ISO 4217 code such as sgd")
    return code


def _amount(payload: Mapping[str, Any], field: str, currency: str) -> Decimal:
    if field not in payload or payload[field] is None:
        raise BadRecord(f"{field} is missing")
    try:
        return parse_amount(payload[field], currency)
    except BadRecord as error:
        raise BadRecord(f"{field}: {error.message}") from None


def _fee_part(payload: Mapping[str, Any], field: str, currency: str) -> Decimal:
    # Manual (cash) charges carry no fee; absent or null means zero, garbage does not.
    if payload.get(field) is None:
        return Decimal(0)
    return _amount(payload, field, currency)


def _exchange_rate(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        return None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return rate if rate.is_finite() and rate > 0 else None


def parse_charge(payload: Mapping[str, Any]) -> Charge:
    """The Charge a HitPay charge payload describes; BadRecord names what is wrong."""
    charge_id = payload.get("id")
    if not isinstance(charge_id, str) or not charge_id.strip():
        raise BadRecord("charge has no id")
    created_at = parse_timestamp(payload.get("created_at"))
    currency = parse_currency(payload.get("currency"))
    amount = _amount(payload, "amount", currency)
    fee_currency = currency
    if payload.get("fees_currency"):
        fee_currency = parse_currency(payload["fees_currency"], "fees_currency")
    fee = _fee_part(payload, "fixed_fee", fee_currency) + _fee_part(
        payload, "discount_fee", fee_currency
    )
    raw_channel = payload.get("channel")
    remark = payload.get("remark")
    return Charge(
        source_id=charge_id.strip(),
        created_at=created_at,
        currency=currency,
        amount=amount,
        fee=fee,
        fee_currency=fee_currency,
        channel=channel_for(raw_channel),
        raw_channel=raw_channel if isinstance(raw_channel, str) else None,
        description=remark if isinstance(remark, str) else "",
        exchange_rate=_exchange_rate(payload.get("exchange_rate")),
        raw=json_safe(payload),
    )


def _identity(payload: Mapping[str, Any]) -> str | None:
    charge_id = payload.get("id")
    return charge_id if isinstance(charge_id, str) and charge_id else None


def read_listed_charge(item: object, window: FetchWindow) -> Charge | Quarantined | None:
    """A listed charge as a sale in ``window``, a quarantined payload, or None (not a sale,
    or created outside the window: listing is by date with a margin, filtering is exact)."""
    if not isinstance(item, Mapping):
        return Quarantined(reason="charge is not a JSON object", payload={"value": json_safe(item)})
    try:
        created_at = parse_timestamp(item.get("created_at"))
    except BadRecord as error:
        return Quarantined(error.message, json_safe(item), _identity(item))
    if not window.start <= created_at < window.end:
        return None
    status = item.get("status")
    if status in NON_SALE_STATUSES:
        return None
    try:
        if status not in SALE_STATUSES:
            raise BadRecord(f"unknown charge status {status!r}")
        return parse_charge(item)
    except BadRecord as error:
        return Quarantined(error.message, json_safe(item), _identity(item))
