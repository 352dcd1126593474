"""HitPay's event webhooks, read and verified: what ``POST /webhooks/hitpay/<connection>`` gets.

HitPay posts the bare object as JSON with ``Hitpay-Signature`` (hex HMAC-SHA256 of the raw
body, keyed with the webhook endpoint's salt), ``Hitpay-Event-Object`` (charge, payout, ...)
and ``Hitpay-Event-Type`` (created, updated); see docs/vendor-facts.md, ``hitpay.webhook.*``.
The signature is checked in constant time over the exact bytes received, before anything in
the body is read. The body is never booked: the sync it triggers fetches the charge by id.

The older form-encoded webhook of a payment request (``webhook`` parameter) carries ``hmac``
in the form instead: hex HMAC-SHA256 over the other fields sorted by key, each as key followed
by value, keyed with the salt of the business's API key (Settings > API Keys), not the event
endpoint's (``hitpay.webhook.legacy_form_signature``). It is checked with the API salt when
one is stored (``ledgersync hitpay webhook NAME --api-salt``), and with the endpoint's salt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from core.api import BadRecord, EventRefused, SourceEvent, body_digest
from plugins.hitpay_source.parsing import parse_timestamp

__all__ = ["API_SALT", "MAX_AGE", "SALT", "legacy_signature", "read_event", "sign"]

log = logging.getLogger(__name__)

SALT = "webhook_salt"  # the vault entry holding the endpoint's salt
API_SALT = "api_salt"  # the vault entry holding the API key's salt (the form webhook's key)
MAX_AGE = timedelta(days=3)  # an object last changed longer ago than this is a replay
SIGNATURE = "Hitpay-Signature"
OBJECT = "Hitpay-Event-Object"
TYPE = "Hitpay-Event-Type"
OBJECTS = frozenset({"charge", "payout", "invoice", "order", "transfer", "payment_request"})
TYPES = frozenset({"created", "updated", "completed", "failed"})


def legacy_signature(salt: str, fields: Mapping[str, str]) -> str:
    """The form webhook's ``hmac``: over the fields sorted by key, each as key then value
    (HitPay's ``generateSignatureArray``; empty fields count, as ``key`` alone)."""
    source = "".join(f"{key}{value}" for key, value in sorted(fields.items()))
    return sign(salt, source.encode("utf-8"))


def _legacy_event(salts: Sequence[str], body: bytes) -> SourceEvent:
    """A payment request's form-encoded webhook (``hitpay.webhook.legacy_form_signature``)."""
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise EventRefused(400, "the form body is not readable") from None
    given = fields.pop("hmac", "").strip().lower().encode("ascii", "replace")
    if not given:
        raise EventRefused(401, "no hmac field: not a signed HitPay payment webhook")
    matched = [
        salt
        for salt in salts
        if hmac.compare_digest(legacy_signature(salt, fields).encode("ascii"), given)
    ]
    if not matched:
        raise EventRefused(
            401, "hmac does not match the fields (forged, altered, or another API salt)"
        )
    payment_id = fields.get("payment_id", "").strip()
    status = fields.get("status", "").strip().lower()
    if not payment_id or len(payment_id) > 200 or status not in TYPES:
        raise EventRefused(400, "the payment webhook has no payment_id or no known status")
    return SourceEvent(
        object="payment_request",
        object_id=payment_id,
        event_type=status,
        digest=body_digest(body),
        payload=fields,
    )


def sign(salt: str, body: bytes) -> str:
    """HitPay's signature of ``body``: hex HMAC-SHA256 keyed with the salt."""
    return hmac.new(salt.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _verify(salt: str, headers: Mapping[str, str], body: bytes) -> None:
    given = (headers.get(SIGNATURE) or "").strip()
    if not given:
        raise EventRefused(401, f"no {SIGNATURE} header: not a signed HitPay event")
    expected = sign(salt, body)
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace")):
        raise EventRefused(
            401, f"{SIGNATURE} does not match the body (forged, altered, or another salt)"
        )


def _header(headers: Mapping[str, str], name: str, allowed: frozenset[str]) -> str:
    value = (headers.get(name) or "").strip().lower()
    if value not in allowed:
        raise EventRefused(400, f"{name} {value[:30]!r} is not one HitPay sends")
    return value


def _object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise EventRefused(400, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise EventRefused(400, "the body is not a JSON object")
    object_id = payload.get("id")
    if not isinstance(object_id, str) or not object_id.strip() or len(object_id) > 200:
        raise EventRefused(400, "the object has no id")
    return payload


def _changed_at(payload: Mapping[str, Any]) -> datetime | None:
    """When the object last changed: ``updated_at``, else ``created_at`` (Atom timestamps in
    HitPay's Charge resource). One that is missing, unreadable or without an offset gives no
    age to check (hitpay.webhook.body_timestamps): the event is still only a hint."""
    for field in ("updated_at", "created_at"):
        try:
            return parse_timestamp(payload.get(field), field)
        except BadRecord:
            continue
    return None


def read_event(
    salt: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    *,
    api_salt: str | None = None,
) -> SourceEvent:
    """The verified event in ``body``, or EventRefused with the status to answer."""
    form = (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded")
    if form and not headers.get(SIGNATURE):
        return _legacy_event([s for s in (api_salt, salt) if s], body)
    _verify(salt, headers, body)
    kind = _header(headers, OBJECT, OBJECTS)
    change = _header(headers, TYPE, TYPES)
    payload = _object(body)
    changed_at = _changed_at(payload)
    if changed_at is not None and changed_at < now - MAX_AGE:
        raise EventRefused(
            422,
            f"the {kind} last changed {changed_at.isoformat()}, more than "
            f"{MAX_AGE.days} days ago: an old event is not accepted (the daily sync reads it)",
        )
    return SourceEvent(
        object=kind,
        object_id=payload["id"].strip(),
        event_type=change,
        digest=body_digest(body),
        payload=payload,
        changed_at=changed_at,
    )
