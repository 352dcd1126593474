"""Payouts: HitPay settling a currency's available balance to the merchant's bank.

``GET /v1/payouts`` lists them newest first; ``GET /v1/payouts/{id}/charges`` lists the
charges one settles (HitPay's docs, see docs/vendor-facts.md). The payout object's fields are
not documented publicly, so it is read loosely: ``id``, ``amount`` (major units, like every
HitPay amount), ``currency``, ``status`` and ``created_at`` (``paid_at`` when that is absent),
the raw payload kept as it came. A payout that cannot be read is quarantined; one not paid yet
is looked at again on the next sync (the source's bookmark keeps the oldest such payout).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from core.api import (
    BadRecord,
    FetchWindow,
    GatewayBalance,
    Payout,
    Quarantined,
    TransientError,
    parse_amount,
)
from plugins.hitpay_source.client import ChargeNotFound, HitPayClient
from plugins.hitpay_source.parsing import (
    json_safe,
    parse_charge,
    parse_currency,
    parse_timestamp,
)

__all__ = [
    "PAID_STATUSES",
    "PENDING_STATUSES",
    "fetch_payouts",
    "parse_payout",
    "read_balances",
]

# "succeeded" (and "succeeded_manually", shown as succeeded) are the 2022 backend's; the
# others are accepted because the current status names are not published.
PAID_STATUSES = frozenset({"succeeded", "succeeded_manually", "paid", "completed"})
PENDING_STATUSES = frozenset({"request_pending", "pending", "processing", "in_transit"})
NOT_PAID_STATUSES = frozenset({"failed", "cancelled", "canceled", "reversed", "returned"})
STATE_KEY = "payouts_since"
UNAVAILABLE_KEY = "payouts_unavailable"
_MAX_PAGES = 10_000


def _pages(client: HitPayClient, path: str) -> Iterator[Any]:
    """Rows of a cursor-paginated HitPay list (``{data, meta: {next_cursor}}``)."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        params = [("per_page", str(client.per_page))]
        if cursor:
            params.append(("cursor", cursor))
        page = client.get(path, params)
        if isinstance(page, list):  # a bare array: everything at once, no pagination
            yield from page
            return
        rows = page.get("data") if isinstance(page, Mapping) else None
        if not isinstance(rows, list):
            raise TransientError(f"HitPay sent a {path} page without a data list.")
        yield from rows
        meta = page.get("meta")
        next_cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
        if not next_cursor and isinstance(meta, Mapping) and "current_page" in meta:
            # Laravel's page-number pagination: ask for the next page until the last.
            current, last = meta.get("current_page"), meta.get("last_page")
            if isinstance(current, int) and isinstance(last, int) and current < last:
                params_page = [*params, ("page", str(current + 1))]
                yield from _numbered(client, path, params_page, last)
            return
        if not isinstance(next_cursor, str) or not next_cursor:
            return
        if next_cursor in seen:
            raise TransientError(f"HitPay repeated a {path} page cursor; stopping.")
        seen.add(next_cursor)
        cursor = next_cursor
    raise TransientError(f"HitPay listed more than {_MAX_PAGES} pages of {path}; stopping.")


def _numbered(
    client: HitPayClient, path: str, params: list[tuple[str, str]], last: int
) -> Iterator[Any]:
    """Pages 2..``last`` of a page-numbered list (``params`` asks for page 2)."""
    base = [(k, v) for k, v in params if k != "page"]
    first = int(dict(params)["page"])
    for number in range(first, min(last, first + _MAX_PAGES) + 1):
        page = client.get(path, [*base, ("page", str(number))])
        rows = page.get("data") if isinstance(page, Mapping) else None
        if not isinstance(rows, list):
            raise TransientError(f"HitPay sent a {path} page without a data list.")
        yield from rows


def _moment(payload: Mapping[str, Any]) -> datetime:
    if payload.get("created_at") is None and payload.get("paid_at") is not None:
        return parse_timestamp(payload.get("paid_at"), "paid_at")
    return parse_timestamp(payload.get("created_at"))


def parse_payout(payload: Mapping[str, Any], charge_ids: tuple[str, ...] = ()) -> Payout:
    """The Payout a paid payout's payload describes; BadRecord names what is wrong."""
    payout_id = payload.get("id")
    if not isinstance(payout_id, str) or not payout_id.strip():
        raise BadRecord("payout has no id")
    currency = parse_currency(payload.get("currency"))
    if payload.get("amount") is None:
        raise BadRecord("amount is missing")
    try:
        amount = parse_amount(payload["amount"], currency)
    except BadRecord as error:
        raise BadRecord(f"amount: {error.message}") from None
    return Payout(
        source_id=payout_id.strip(),
        created_at=_moment(payload),
        currency=currency,
        amount=amount,
        charge_ids=charge_ids,
        raw=json_safe(payload),
    )


def _identity(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("id")
    return value if isinstance(value, str) and value else None


def _settled_charges(
    client: HitPayClient, payout_id: str, currency: str
) -> tuple[tuple[str, ...], dict[str, Decimal]]:
    """The ids of the charges a payout settles, and what each credited net of fees (where
    the row can be read as a sale in the payout's currency)."""
    ids: list[str] = []
    nets: dict[str, Decimal] = {}
    for row in _pages(client, f"payouts/{quote(payout_id, safe='')}/charges"):
        charge_id = row.get("id") if isinstance(row, Mapping) else None
        if not isinstance(charge_id, str) or not charge_id:
            continue
        ids.append(charge_id)
        try:
            charge = parse_charge(row)
        except BadRecord:
            continue
        if charge.currency == currency:
            fee = charge.fee if charge.fee_currency == currency else Decimal(0)
            nets[charge_id] = charge.amount - fee
    return tuple(ids), nets


def fetch_payouts(
    client: HitPayClient, window: FetchWindow, state: MutableMapping[str, Any]
) -> Iterator[Payout | Quarantined]:
    """Paid payouts created in ``[since, window.end)``: ``since`` is the window's start on the
    first sync (the sync's enabling time), later the oldest payout still pending."""
    since = window.start
    if isinstance(state.get(STATE_KEY), str):
        since = min(since, datetime.fromisoformat(state[STATE_KEY]))
    oldest_pending: datetime | None = None
    try:
        listing = list(_pages(client, "payouts"))
    except ChargeNotFound:
        # An older or sandbox server without payouts: nothing to settle, said once in state.
        state[UNAVAILABLE_KEY] = "HitPay answered 404 for /v1/payouts: payouts are not synced"
        return
    state.pop(UNAVAILABLE_KEY, None)
    for item in listing:
        if not isinstance(item, Mapping):
            yield Quarantined(
                "payout is not a JSON object", {"value": json_safe(item)}, None, "payout"
            )
            continue
        try:
            created_at = _moment(item)
        except BadRecord as error:
            yield Quarantined(error.message, json_safe(item), _identity(item), "payout")
            continue
        if created_at < since:
            break  # newest first: everything after this is older
        if created_at >= window.end:
            continue
        status = item.get("status")
        if status in PENDING_STATUSES:
            oldest_pending = created_at
            continue
        if status in NOT_PAID_STATUSES:
            continue
        try:
            if status not in PAID_STATUSES:
                raise BadRecord(f"unknown payout status {status!r}")
            payout = parse_payout(item)
        except BadRecord as error:
            yield Quarantined(error.message, json_safe(item), _identity(item), "payout")
            continue
        charge_ids, nets = _settled_charges(client, payout.source_id, payout.currency)
        yield Payout(
            payout.source_id,
            payout.created_at,
            payout.currency,
            payout.amount,
            charge_ids,
            nets,
            payout.raw,
        )
    state[STATE_KEY] = (oldest_pending or window.end).isoformat()


def read_balances(client: HitPayClient) -> dict[str, GatewayBalance]:
    """``GET /v1/balances``: a bare array of ``{currency, wallets: {available, pending?,
    reserve, deposit?}}`` (a ``{data: [...]}`` wrapper is taken too); a missing wallet is 0,
    wallets it does not name are kept in ``other``; rows it cannot read are left out."""
    body = client.get("balances")
    rows = body.get("data") if isinstance(body, Mapping) else body
    found: dict[str, GatewayBalance] = {}
    for row in rows if isinstance(rows, list) else []:
        try:
            currency = parse_currency(row.get("currency") if isinstance(row, Mapping) else None)
            wallets = row.get("wallets") or {}
            values = {
                str(name): parse_amount(value, currency)
                for name, value in wallets.items()
                if value is not None
            }
        except (BadRecord, AttributeError):
            continue
        zero = Decimal(0)
        found[currency] = GatewayBalance(
            currency=currency,
            available=values.pop("available", zero),
            pending=values.pop("pending", zero),
            reserve=values.pop("reserve", zero),
            other=values,
        )
    return found
