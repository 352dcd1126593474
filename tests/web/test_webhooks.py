"""``POST /webhooks/hitpay/<connection>``: signed events taken in without a session, refused
with the right status when they must be, stored once, answered before any sync work."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core import clock
from core.store.models import Run, SourceEventRow
from plugins.hitpay_source.connecting import store_webhook_salt
from plugins.hitpay_source.webhooks import legacy_signature, sign
from tests.web.conftest import AtPage, Shop

SALT = "whsalt-3f9a1c77e2b64d0c"
URL = "/webhooks/hitpay/shop"


def charge_body(charge_id: str = "9a1c-0001", *, changed: datetime | None = None) -> bytes:
    moment = (changed or clock.now()).isoformat()
    charge = {
        "id": charge_id,
        "business_id": "9a0f-business",
        "channel": "api_custom",
        "status": "succeeded",
        "currency": "sgd",
        "amount": 12.5,
        "refunded_amount": 0,
        "fixed_fee": 0.6,
        "discount_fee": 0.4,
        "created_at": moment,
        "updated_at": moment,
    }
    return json.dumps(charge).encode()


def headers(
    body: bytes, *, salt: str = SALT, kind: str = "charge", change: str = "created"
) -> dict[str, str]:
    return {
        "Hitpay-Signature": sign(salt, body),
        "Hitpay-Event-Object": kind,
        "Hitpay-Event-Type": change,
        "User-Agent": "HitPay v2.0",
        "Content-Type": "application/json",
    }


def post(visitor: FlaskClient, body: bytes, head: dict[str, str], url: str = URL) -> Any:
    return visitor.post(url, data=body, headers=head)


def stored(shop: Shop) -> list[SourceEventRow]:
    with shop.host.database.session() as session:
        rows = list(session.scalars(select(SourceEventRow).order_by(SourceEventRow.id)))
        session.expunge_all()
        return rows


@pytest.fixture
def hooked(shop: Shop) -> Shop:
    shop.connect()
    store_webhook_salt(shop.host, shop.name, SALT)
    return shop


@pytest.mark.vendor_fact("hitpay.webhook.headers", "hitpay.webhook.signature_hmac_raw_body")
def test_a_signed_event_is_accepted_without_a_session_and_stored_once(
    hooked: Shop, visitor: FlaskClient
) -> None:
    body = charge_body()

    first = post(visitor, body, headers(body))
    again = post(visitor, body, headers(body))

    assert (first.status_code, again.status_code) == (202, 200)
    [row] = stored(hooked)
    assert (row.object, row.object_id, row.event_type) == ("charge", "9a1c-0001", "created")
    assert row.handled_at is None
    with hooked.host.database.session() as session:  # answered before any sync work
        assert session.scalar(select(func.count()).select_from(Run)) == 0


@pytest.mark.vendor_fact("hitpay.webhook.delivery_ips")
def test_a_signed_event_from_any_address_is_accepted(hooked: Shop, visitor: FlaskClient) -> None:
    """HitPay sends from a few published addresses, but a proxy hides them: only the
    signature decides, never the sender's address."""
    body = charge_body("9a1c-0002")
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}  # neither 3.1.13.32 nor 52.77.254.34
    proxied = visitor.post(
        URL,
        data=body,
        headers={**headers(body), "X-Forwarded-For": "203.0.113.5"},
        environ_base=elsewhere,
    )
    assert proxied.status_code == 202
    forged = visitor.post(
        URL, data=body, headers={**headers(body), "Hitpay-Signature": "0" * 64},
        environ_base={"REMOTE_ADDR": "52.77.254.34"},
    )  # fmt: skip
    assert forged.status_code == 401  # a HitPay address does not stand in for the signature
    assert [row.object_id for row in stored(hooked)] == ["9a1c-0002"]


def test_an_update_of_the_same_charge_is_a_new_event(hooked: Shop, visitor: FlaskClient) -> None:
    created = charge_body()
    refunded = json.loads(created)
    refunded["refunded_amount"] = 2.5
    updated = json.dumps(refunded).encode()

    assert post(visitor, updated, headers(updated, change="updated")).status_code == 202
    assert post(visitor, created, headers(created)).status_code == 202  # reordered: still fine

    assert [(r.event_type, r.object_id) for r in stored(hooked)] == [
        ("updated", "9a1c-0001"),
        ("created", "9a1c-0001"),
    ]


@pytest.mark.vendor_fact("hitpay.webhook.signature_hmac_raw_body")
def test_an_upper_case_hex_signature_is_the_same_signature(
    hooked: Shop, visitor: FlaskClient
) -> None:
    body = charge_body()
    head = headers(body)
    head["Hitpay-Signature"] = head["Hitpay-Signature"].upper()

    assert post(visitor, body, head).status_code == 202


@pytest.mark.vendor_fact("hitpay.webhook.signature_hmac_raw_body")
@pytest.mark.parametrize(
    "tamper",
    ["missing", "forged", "other salt", "reserialized", "altered amount"],
)
def test_an_unsigned_or_forged_event_is_refused_401(
    hooked: Shop, visitor: FlaskClient, tamper: str
) -> None:
    body = charge_body()
    head = headers(body)
    if tamper == "missing":
        del head["Hitpay-Signature"]
    elif tamper == "forged":
        head["Hitpay-Signature"] = "0" * 64
    elif tamper == "other salt":
        head = headers(body, salt="not-the-salt")
    elif tamper == "reserialized":
        body = json.dumps(json.loads(body), indent=2).encode()
    else:
        body = body.replace(b"12.5", b"1250.0")

    answer = post(visitor, body, head)

    assert answer.status_code == 401
    assert stored(hooked) == []


def test_unknown_connections_and_connections_without_a_salt_are_404(
    shop: Shop, visitor: FlaskClient
) -> None:
    shop.connect()
    body = charge_body()

    assert post(visitor, body, headers(body), "/webhooks/hitpay/nobody").status_code == 404
    assert post(visitor, body, headers(body)).status_code == 404  # no salt stored yet
    assert post(visitor, body, headers(body), "/webhooks/zoho/shop").status_code == 404
    assert post(visitor, body, headers(body), "/webhooks/nothing/shop").status_code == 404


def test_a_body_over_the_limit_is_refused_413_unread(hooked: Shop, visitor: FlaskClient) -> None:
    charge = json.loads(charge_body())
    charge["remark"] = "x" * (300 * 1024)
    body = json.dumps(charge).encode()

    assert post(visitor, body, headers(body)).status_code == 413
    assert stored(hooked) == []


@pytest.mark.parametrize(
    ("body", "kind", "change"),
    [
        (b"not json", "charge", "created"),
        (b"[1, 2]", "charge", "created"),
        (b'{"amount": 1}', "charge", "created"),
        (b'{"id": "c1"}', "mystery", "created"),
        (b'{"id": "c1"}', "charge", "exploded"),
    ],
)
def test_a_malformed_but_signed_event_is_refused_400(
    hooked: Shop, visitor: FlaskClient, body: bytes, kind: str, change: str
) -> None:
    answer = post(visitor, body, headers(body, kind=kind, change=change))

    assert answer.status_code == 400
    assert stored(hooked) == []


@pytest.mark.vendor_fact("hitpay.webhook.body_timestamps")
@pytest.mark.parametrize(
    "stamps",
    [{}, {"created_at": "2026-11-20T10:00:00"}, {"updated_at": "yesterday"}],
    ids=["none", "no offset", "unreadable"],
)
def test_an_event_whose_age_cannot_be_read_is_accepted_as_a_hint(
    hooked: Shop, visitor: FlaskClient, stamps: dict[str, str]
) -> None:
    body = json.dumps({"id": "9a1c-0003", "status": "succeeded", **stamps}).encode()

    assert post(visitor, body, headers(body)).status_code == 202
    assert stored(hooked)[0].changed_at is None


@pytest.mark.vendor_fact("hitpay.webhook.body_timestamps")
def test_an_event_about_an_object_unchanged_for_days_is_refused_422(
    hooked: Shop, visitor: FlaskClient
) -> None:
    old = charge_body(changed=clock.now() - timedelta(days=4))
    recent = charge_body("9a1c-0002", changed=clock.now() - timedelta(days=2))

    assert post(visitor, old, headers(old)).status_code == 422
    assert post(visitor, recent, headers(recent)).status_code == 202
    assert [r.object_id for r in stored(hooked)] == ["9a1c-0002"]


def test_refusals_are_logged_with_their_reason_and_without_secrets(
    hooked: Shop, visitor: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = charge_body()
    head = headers(body)
    head["Hitpay-Signature"] = sign("not-the-salt", body)
    caplog.set_level(logging.INFO)

    post(visitor, body, head)
    post(visitor, body, headers(body))

    logged = caplog.text
    assert "webhook refused (401)" in logged and "does not match" in logged
    assert "stored" in logged
    for secret in (SALT, head["Hitpay-Signature"], sign(SALT, body), "9a0f-business"):
        assert secret not in logged


def test_the_integration_page_shows_the_last_event_and_the_next_event_sync(
    hooked: Shop, visitor: FlaskClient, page: AtPage
) -> None:
    before = page.get("/connections/shop").get_data(as_text=True)
    body = charge_body()
    post(visitor, body, headers(body))

    after = page.get("/connections/shop").get_data(as_text=True)

    assert 'id="last-event"' not in before
    assert 'id="last-event">charge.created at ' in after and "(1 waiting)" in after
    assert 'id="next-event-sync">sync is disabled' in after  # never enabled in this test


def _form(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


PAYMENT = {
    "payment_id": "9a2b-payment",
    "payment_request_id": "9a2b-request",
    "phone": "",
    "amount": "25.00",
    "currency": "SGD",
    "status": "completed",
    "reference_number": "ORDER-17",
}


API_SALT = "apisalt-81d2c0e94b7f"  # the salt beside the API key: it keys the form webhook
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def values_only(salt: str, fields: dict[str, str]) -> str:
    """What the docs' prose and some public code describe: the values alone, sorted by key."""
    return sign(salt, "".join(v for _, v in sorted(fields.items())).encode())


@pytest.mark.vendor_fact("hitpay.webhook.legacy_form_signature")
@pytest.mark.parametrize("keyed_with", ["api salt", "endpoint salt"])
def test_a_legacy_form_webhook_signed_over_keys_and_values_is_accepted(
    hooked: Shop, visitor: FlaskClient, keyed_with: str
) -> None:
    store_webhook_salt(hooked.host, hooked.name, SALT, api_salt=API_SALT)
    salt = API_SALT if keyed_with == "api salt" else SALT
    body = _form({**PAYMENT, "hmac": legacy_signature(salt, PAYMENT)})

    answer = visitor.post(URL, data=body, headers=FORM)

    assert answer.status_code == 202
    [row] = stored(hooked)
    assert (row.object, row.object_id, row.event_type) == (
        "payment_request",
        "9a2b-payment",
        "completed",
    )


@pytest.mark.vendor_fact("hitpay.webhook.legacy_form_signature")
def test_a_legacy_form_webhook_with_a_wrong_hmac_is_refused(
    hooked: Shop, visitor: FlaskClient
) -> None:
    store_webhook_salt(hooked.host, hooked.name, SALT, api_salt=API_SALT)
    altered = {**PAYMENT, "amount": "2500.00"}

    forged = visitor.post(
        URL,
        data=_form({**PAYMENT, "hmac": legacy_signature("not-the-salt", PAYMENT)}),
        headers=FORM,
    )
    tampered = visitor.post(
        URL, data=_form({**altered, "hmac": legacy_signature(API_SALT, PAYMENT)}), headers=FORM
    )
    unsigned = visitor.post(URL, data=_form(PAYMENT), headers=FORM)
    values = visitor.post(
        URL, data=_form({**PAYMENT, "hmac": values_only(API_SALT, PAYMENT)}), headers=FORM
    )

    assert [r.status_code for r in (forged, tampered, unsigned, values)] == [401, 401, 401, 401]
    assert stored(hooked) == []
