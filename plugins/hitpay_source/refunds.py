"""Refund discovery. HitPay has no refunds list, so refunds are found on their charges.

Every charge that took money (``succeeded``, ``succeeded_manually``, ``refunded``,
``partially_refunded``) created since ``window.refunds_since`` is re-listed: a partly refunded
charge may keep ``status: succeeded`` (HitPay's own code does so), so refunds are found by
``refunded_amount`` and ``updated_at``, whatever the status. A charge is read in detail when it
shows a sign of a refund for the first time (a refund status, a ``refunded_amount`` above zero
when the list carries it, or an ``updated_at`` after it closed), or when its listed status,
``updated_at`` or ``refunded_amount`` changed since it was last read. Each entry of its
``refunds[]`` becomes one Refund whose id is HitPay's refund id. The bookkeeping lives in the
source's JSON ``state``.

The same listing names every sale of the fetch window explicitly by status, so a sale that a
server-side default status filter hid from the unfiltered charge pass is still yielded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, MutableMapping, Set
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core.api import BadRecord, Charge, FetchWindow, Quarantined, Refund, parse_amount
from plugins.hitpay_source.client import ChargeNotFound, HitPayClient
from plugins.hitpay_source.dates import listing_dates
from plugins.hitpay_source.parsing import (
    json_safe,
    parse_currency,
    parse_timestamp,
    read_listed_charge,
)

__all__ = ["REFUND_STATUSES", "discover_refunds", "refunds_of"]

# Statuses named by the refund listing: every charge that took money may have been refunded.
REFUND_STATUSES = ("succeeded", "succeeded_manually", "refunded", "partially_refunded")
_REFUNDED = frozenset({"refunded", "partially_refunded"})
_NOT_MONEY_BACK = frozenset(
    {
        "failed",
        "pending",
        "cancelled",
        "canceled",
        "void",
        "requires_payment_method",
        "requires_customer_action",
    }
)
STATE_KEY = "refunds_seen"


def _mark(item: Mapping[str, Any]) -> list[Any]:
    return [item.get("status"), item.get("updated_at"), json_safe(item.get("refunded_amount"))]


def _shows_a_refund(item: Mapping[str, Any]) -> bool:
    """Whether a listed charge, never read before, may carry a refund (when in doubt: yes)."""
    if item.get("status") in _REFUNDED:
        return True
    if item.get("refunded_amount") is not None:
        try:
            return Decimal(str(item["refunded_amount"])) != 0
        except InvalidOperation:
            return True
    try:
        updated = parse_timestamp(item.get("updated_at"), "updated_at")
        closed = parse_timestamp(item.get("closed_at") or item.get("created_at"), "closed_at")
    except BadRecord:
        return True
    return updated > closed


def discover_refunds(
    client: HitPayClient,
    window: FetchWindow,
    state: MutableMapping[str, Any],
    charges_seen: Set[str] = frozenset(),
) -> Iterator[Charge | Refund | Quarantined]:
    """Refunds of charges created in ``[window.refunds_since, window.end)`` not seen before,
    and the sales of ``window`` that are not in ``charges_seen`` (the charge pass's ids)."""
    book: dict[str, Any] = state.setdefault(STATE_KEY, {})
    date_from, date_to = listing_dates(window.refunds_since, window.end)
    for item in client.iter_charges(date_from, date_to, REFUND_STATUSES):
        # Malformed charges are quarantined by the charge pass; there is nothing to refund.
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        try:
            created_at = parse_timestamp(item.get("created_at"))
        except BadRecord:
            continue
        if not window.refunds_since <= created_at < window.end:
            continue
        if item.get("status") not in REFUND_STATUSES:
            continue
        charge_id: str = item["id"]
        if charge_id not in charges_seen and window.start <= created_at:
            hidden_sale = read_listed_charge(item, window)
            if hidden_sale is not None:
                yield hidden_sale
        known = book.get(charge_id)
        mark = _mark(item)
        if known is not None and known.get("mark") == mark:
            continue
        if known is None and not _shows_a_refund(item):
            continue
        previous = Decimal(known["refunded_amount"]) if known else Decimal(0)
        try:
            detail = client.charge(charge_id)
        except ChargeNotFound:
            yield Quarantined(
                f"charge {charge_id} is listed as {item.get('status')} but its details are gone "
                "(404)",
                json_safe(item),
                charge_id,
                kind="refund",
            )
            continue
        found, total = refunds_of(detail, previous)
        yield from found
        book[charge_id] = {
            "mark": mark,
            "refunded_amount": str(total),
            "created_at": created_at.isoformat(),
        }
    for charge_id in [k for k, v in book.items() if _older(v, window.refunds_since)]:
        del book[charge_id]


def _older(entry: Mapping[str, Any], since: datetime) -> bool:
    try:
        return parse_timestamp(entry.get("created_at")) < since
    except BadRecord:
        return True


def refunds_of(
    detail: Mapping[str, Any], previous_total: Decimal = Decimal(0)
) -> tuple[list[Refund | Quarantined], Decimal]:
    """The refunds a charge detail shows, and the refunded total to remember.

    With ``refunds[]`` present each entry is one refund. Without it, the growth of
    ``refunded_amount`` since ``previous_total`` becomes one refund whose id names the new total.
    """
    charge_id = str(detail.get("id") or "")
    try:
        currency = parse_currency(detail.get("currency"))
        charge_zone = parse_timestamp(detail.get("created_at")).tzinfo
        total = _refunded_total(detail, currency)
    except BadRecord as error:
        reason = f"refunds of charge {charge_id or '(no id)'}: {error.message}"
        return [Quarantined(reason, json_safe(detail), charge_id or None, kind="refund")], (
            previous_total
        )
    assert isinstance(charge_zone, timezone)
    entries = detail.get("refunds")
    if not entries:
        return _derived(detail, charge_id, currency, total, previous_total), max(
            total or Decimal(0), previous_total
        )
    found: list[Refund | Quarantined] = []
    listed = Decimal(0)
    for entry in entries if isinstance(entries, list) else [entries]:
        try:
            refund = _refund_entry(entry, charge_id, currency, charge_zone)
        except BadRecord as error:
            is_object = isinstance(entry, Mapping)
            payload = json_safe(entry) if is_object else {"value": json_safe(entry)}
            entry_id = entry.get("id") if isinstance(entry, Mapping) else None
            reason = f"refund of charge {charge_id}: {error.message}"
            found.append(Quarantined(reason, payload, entry_id, kind="refund"))
            continue
        if refund is not None:
            listed += refund.amount
            found.append(refund)
    if (
        total is not None
        and total != listed
        and not any(isinstance(item, Quarantined) for item in found)
    ):
        found.append(
            Quarantined(
                f"charge {charge_id} has refunded_amount {total} but its refunds add up to "
                f"{listed}; the difference is not synced",
                json_safe(detail),
                charge_id,
                kind="refund",
            )
        )
    return found, listed if total is None else total


def _refunded_total(detail: Mapping[str, Any], currency: str) -> Decimal | None:
    value = detail.get("refunded_amount")
    if value is None:
        return None
    try:
        return parse_amount(value, currency)
    except BadRecord as error:
        raise BadRecord(f"refunded_amount: {error.message}") from None


def _derived(
    detail: Mapping[str, Any],
    charge_id: str,
    currency: str,
    total: Decimal | None,
    previous_total: Decimal,
) -> list[Refund | Quarantined]:
    if total is None or total <= previous_total:
        return []
    try:
        moment = parse_timestamp(detail.get("updated_at"), "updated_at")
        refund = Refund(
            source_id=f"{charge_id}:refunded-to:{total}",
            charge_id=charge_id,
            created_at=moment,
            currency=currency,
            amount=total - previous_total,
            raw={"derived_from": "refunded_amount", "charge": json_safe(detail)},
        )
    except BadRecord as error:
        reason = f"refund of charge {charge_id}: {error.message}"
        return [Quarantined(reason, json_safe(detail), charge_id, kind="refund")]
    return [refund]


def _refund_moment(entry: Mapping[str, Any], charge_zone: timezone) -> datetime:
    naive: datetime | None = None
    for name in ("refunded_at", "created_at"):
        value = entry.get(name)
        if not isinstance(value, str) or not value:
            continue
        try:
            return parse_timestamp(value, name)
        except BadRecord:
            try:
                naive = naive or datetime.fromisoformat(value)
            except ValueError:
                continue
    if naive is None:
        raise BadRecord("refund has no readable refunded_at or created_at")
    # HitPay sends some refund times without an offset, in the business's local time.
    return naive.replace(tzinfo=charge_zone)


def _refund_entry(
    entry: object, charge_id: str, currency: str, charge_zone: timezone
) -> Refund | None:
    if not isinstance(entry, Mapping):
        raise BadRecord("refund entry is not a JSON object")
    status = entry.get("status")
    if isinstance(status, str) and status.lower() in _NOT_MONEY_BACK:
        return None
    entry_currency = entry.get("currency")
    if entry_currency is not None and parse_currency(entry_currency) != currency:
        raise BadRecord(f"refund currency {entry_currency!r} differs from the charge's {currency}")
    field = "amount_refunded" if "amount_refunded" in entry else "amount"
    if entry.get(field) is None:
        raise BadRecord("refund amount is missing")
    try:
        amount = parse_amount(entry[field], currency)
    except BadRecord as error:
        raise BadRecord(f"{field}: {error.message}") from None
    moment = _refund_moment(entry, charge_zone)
    refund_id = entry.get("id")
    if not isinstance(refund_id, str) or not refund_id:
        digest = hashlib.sha256(f"{moment.isoformat()}|{amount}".encode()).hexdigest()[:16]
        refund_id = f"{charge_id}:refund:{digest}"
    return Refund(
        source_id=refund_id,
        charge_id=charge_id,
        created_at=moment,
        currency=currency,
        amount=amount,
        raw=json_safe(entry),
    )
