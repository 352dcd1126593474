"""The stand-in's answers validate against HitPay's own OpenAPI document, so it cannot drift.

The charge and refund operations are kept verbatim in ``reference/`` (checked against the full
document when it is present). HitPay's document says ``openapi: 3.1.1`` yet marks some fields
with 3.0's ``nullable``; that is read as the 3.1 ``type: [T, "null"]`` it means. Three
declarations contradict HitPay's own examples and the API's nature, and are relaxed explicitly
below: the last page has no next cursor, and a refund's ``amount_refunded`` / ``provider_fee``
are declared integer (the latter with example 1.1, and null in the response example).
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS31Validator

from plugins.hitpay_source.testing.standin import HitPayStandIn

REFERENCE = Path(__file__).parent / "reference" / "hitpay-openapi-charges.json"
ORIGINAL = Path("/work/shared/reference/hitpay-openapi/hitpay-openapi-original.json")
OPENAPI: dict[str, Any] = json.loads(REFERENCE.read_text())


def _nullable_as_31(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_nullable_as_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed = {key: _nullable_as_31(value) for key, value in schema.items()}
    if fixed.pop("nullable", False) and isinstance(fixed.get("type"), str):
        fixed["type"] = [fixed["type"], "null"]
    return fixed


def _schema(path: str, method: str) -> dict[str, Any]:
    operation = OPENAPI["paths"][path][method]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return _nullable_as_31(copy.deepcopy(schema))  # type: ignore[no-any-return]


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """No field the document does not name: a misspelt or invented field fails."""
    return {**schema, "additionalProperties": False}


LIST = _schema("/v1/charges", "get")
LIST["properties"]["data"]["items"] = _closed(LIST["properties"]["data"]["items"])
LIST["properties"]["meta"]["properties"]["next_cursor"]["type"] = ["string", "null"]
LIST["properties"]["links"]["properties"]["next"]["type"] = ["string", "null"]
DETAIL = _closed(_schema("/v1/charges/{charge_id}", "get"))
CREATED_REFUND = _closed(_schema("/v1/refund", "post"))
CREATED_REFUND["properties"]["amount_refunded"]["type"] = "number"
CREATED_REFUND["properties"]["provider_fee"]["type"] = ["number", "null"]
CREATED_REFUND["properties"]["provider_fee_currency"]["type"] = ["string", "null"]
CREATED_REFUND["properties"]["refunded_by"]["type"] = ["string", "null"]
REFUND = _closed(_schema("/v1/refund/{refund_id}", "get"))


def _validate(schema: dict[str, Any], body: Any) -> None:
    validator = OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == []


def _get(standin: HitPayStandIn, path: str, **params: Any) -> Any:
    response = requests.get(
        f"{standin.url}/v1/{path}",
        params=params,
        headers={"X-BUSINESS-API-KEY": standin.api_key},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture(scope="module")
def seeded() -> Any:
    with HitPayStandIn() as standin:
        charges = standin.seed(3, date(2026, 2, 1), days=5, timezone="Asia/Singapore", per_day=20)
        yield standin, charges


def test_the_reference_extract_is_hitpays_document_verbatim() -> None:
    if not ORIGINAL.exists():
        pytest.skip("HitPay's full OpenAPI document is not on this machine")
    original = json.loads(ORIGINAL.read_text())
    for path, operations in OPENAPI["paths"].items():
        assert operations == original["paths"][path]


def test_every_listed_page_validates(seeded: Any) -> None:
    standin, charges = seeded
    cursor, pages, seen = None, 0, 0
    while True:
        params = {"per_page": 15, **({"cursor": cursor} if cursor else {})}
        page = _get(standin, "charges", **params)
        _validate(LIST, page)
        pages, seen = pages + 1, seen + len(page["data"])
        for item in page["data"]:
            assert set(item) == set(LIST["properties"]["data"]["items"]["properties"])
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            break
        assert isinstance(page["links"]["next"], str) and cursor in page["links"]["next"]
    assert pages > 5 and seen == len(charges)


@pytest.mark.vendor_fact("hitpay.charge.detail_only_fields")
def test_every_charge_detail_validates_with_its_refunds(seeded: Any) -> None:
    standin, charges = seeded
    # A partly refunded charge keeps "succeeded" (the stand-in's default variant).
    assert any(c["status"] == "succeeded" and c["refunded_amount"] > 0 for c in charges)
    assert any(c["status"] == "refunded" for c in charges)
    assert {c["currency"] for c in charges} == {"sgd", "usd", "jpy"}
    for charge in charges:
        detail = _get(standin, f"charges/{charge['id']}")
        _validate(DETAIL, detail)
        assert detail["amount_without_fees"] == (
            detail["amount"] - detail["fixed_fee"] - detail["discount_fee"]
        )
        assert detail["refunded_amount"] == sum(
            (r["amount_refunded"] for r in detail["refunds"]), Decimal(0)
        )
        datetime.fromisoformat(detail["created_at"]).utcoffset()  # has an offset
        assert datetime.fromisoformat(detail["created_at"]).utcoffset() == timedelta(hours=8)
        for refund in detail["refunds"]:
            _validate(REFUND, refund)
            _validate(REFUND, _get(standin, f"refund/{refund['id']}"))


@pytest.mark.vendor_fact("hitpay.refund.create")
def test_a_created_refund_validates(standin: HitPayStandIn) -> None:
    charge = standin.add_charge(amount=Decimal("96.49"))
    for body in ({"payment_id": charge["id"], "amount": 1},):
        response = requests.post(
            f"{standin.url}/v1/refund",
            json=body,
            headers={"X-BUSINESS-API-KEY": standin.api_key},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        created = json.loads(response.text, parse_float=Decimal)
        _validate(CREATED_REFUND, created)
        assert (created["payment_id"], created["amount_refunded"]) == (charge["id"], 1)
    form = requests.post(
        f"{standin.url}/v1/refund",
        data={"payment_id": charge["id"], "amount": "2.49"},
        headers={"X-BUSINESS-API-KEY": standin.api_key},
        timeout=5,
    )
    assert form.status_code == 200
    assert _get(standin, f"charges/{charge['id']}")["refunded_amount"] == Decimal("3.49")
