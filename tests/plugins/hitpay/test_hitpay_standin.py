"""The stand-in enforces HitPay's rules: keys, parameters, filters, cursors, refunds."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from plugins.hitpay_source.parsing import SALE_STATUSES
from plugins.hitpay_source.testing.standin import UNKNOWN_CHANNEL, HitPayStandIn
from plugins.hitpay_source.testing.standin.wire import to_json

AT = datetime.fromisoformat("2026-03-04T12:00:00+08:00")


def _call(
    standin: HitPayStandIn, method: str, path: str, key: str | None = None, **kwargs: Any
) -> tuple[int, Any]:
    headers = {"X-BUSINESS-API-KEY": standin.api_key if key is None else key}
    response = requests.request(
        method, f"{standin.url}/v1/{path}", headers=headers, timeout=5, **kwargs
    )
    return response.status_code, json.loads(response.text, parse_float=Decimal)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "charges"), ("GET", "charges/x"), ("POST", "refund"), ("GET", "refund/x")],
)
@pytest.mark.vendor_fact("hitpay.auth.header", "hitpay.auth.errors")
def test_every_route_refuses_a_missing_or_wrong_key(
    standin: HitPayStandIn, method: str, path: str
) -> None:
    assert _call(standin, method, path, key="") == (401, {"message": "Unauthenticated."})
    assert _call(standin, method, path, key="nope")[0] == 401


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"per_page": "0"}, "per_page", "The per page must be at least 1."),
        ({"per_page": "101"}, "per_page", "The per page must not be greater than 100."),
        ({"per_page": "ten"}, "per_page", "The per page must be an integer."),
        ({"date_from": "2026-3-4"}, "date_from", "The date from does not match the format Y-m-d."),
        ({"date_to": "2026-02-30"}, "date_to", "The date to does not match the format Y-m-d."),
        (
            {"date_from": "2026-03-05", "date_to": "2026-03-04"},
            "date_to",
            "The date to must be a date after or equal to date from.",
        ),
        ({"status": "partially_refunded"}, "status", "The selected status is invalid."),
        ({"statuses[]": ["refunded", "nope"]}, "statuses.1", "The selected statuses.1 is invalid."),
        ({"cursor": "!!"}, "cursor", "The cursor is invalid."),
    ],
)
@pytest.mark.vendor_fact("hitpay.errors.shapes")
def test_bad_parameters_get_422_with_hitpays_error_shape(
    standin: HitPayStandIn, params: dict[str, Any], field: str, message: str
) -> None:
    status, body = _call(standin, "GET", "charges", params=params)
    assert status == 422
    assert body == {"message": message, "errors": {field: [message]}}


def test_several_bad_parameters_are_all_named(standin: HitPayStandIn) -> None:
    status, body = _call(standin, "GET", "charges", params={"per_page": "0", "status": "x"})
    assert status == 422 and set(body["errors"]) == {"per_page", "status"}
    assert body["message"] == "The per page must be at least 1. (and 1 more error)"


def test_unknown_ids_get_404(standin: HitPayStandIn) -> None:
    status, body = _call(standin, "GET", "charges/9cecc92d-0000-0000-0000-000000000000")
    assert status == 404 and body["message"].startswith("No query results for model")
    assert _call(standin, "GET", "refund/nope")[0] == 404
    assert _call(standin, "GET", "nowhere")[0] == 404
    assert _call(standin, "DELETE", "charges")[0] == 405


@pytest.mark.vendor_fact("hitpay.charges.statuses_param_encoding")
def test_status_and_date_filters(standin: HitPayStandIn) -> None:
    ids = {s: standin.add_charge(status=s, created_at=AT)["id"] for s in ("succeeded", "failed")}
    refunded = standin.add_charge(created_at=AT, amount=Decimal(10))["id"]
    partial = standin.add_charge(created_at=AT, amount=Decimal(10))["id"]
    standin.refund(refunded, 10)
    standin.refund(partial, 3)
    later = standin.add_charge(created_at=AT + timedelta(days=2))["id"]

    def listed(**params: Any) -> set[str]:
        status, body = _call(standin, "GET", "charges", params=params)
        assert status == 200
        return {item["id"] for item in body["data"]}

    # A partly refunded charge keeps "succeeded" (the default variant).
    assert listed(**{"statuses[]": ["refunded", "partially_refunded"]}) == {refunded}
    assert listed(**{"statuses[0]": "success", "statuses[1]": "failed"}) == {
        *ids.values(),
        partial,
        later,
    }
    assert listed(status="refunded") == {refunded}
    assert listed(date_from="2026-03-04", date_to="2026-03-04") == {
        *ids.values(),
        refunded,
        partial,
    }
    assert listed(date_from="2026-03-05") == {later}


def test_cursors_neither_repeat_nor_skip_when_charges_arrive_between_pages(
    standin: HitPayStandIn,
) -> None:
    first = [standin.add_charge(created_at=AT - timedelta(minutes=i))["id"] for i in range(6)]
    _, page = _call(standin, "GET", "charges", params={"per_page": 3})
    standin.add_charge(created_at=AT + timedelta(hours=1))  # newer: belongs before page one
    late = standin.add_charge(created_at=AT - timedelta(minutes=10))["id"]  # older: still ahead
    cursor = page["meta"]["next_cursor"]
    _, rest = _call(standin, "GET", "charges", params={"per_page": 3, "cursor": cursor})
    _, last = _call(
        standin, "GET", "charges", params={"per_page": 3, "cursor": rest["meta"]["next_cursor"]}
    )
    ids = [c["id"] for c in page["data"] + rest["data"] + last["data"]]
    assert ids == [*first, late]
    assert last["meta"]["next_cursor"] is None and last["links"]["next"] is None


def test_refund_validation(standin: HitPayStandIn) -> None:
    charge = standin.add_charge(amount=Decimal("10.00"))["id"]
    failed = standin.add_charge(status="failed")["id"]

    def refund(**body: Any) -> tuple[int, Any]:
        headers = {"X-BUSINESS-API-KEY": standin.api_key, "Content-Type": "application/json"}
        response = requests.post(
            f"{standin.url}/v1/refund", data=to_json(body), headers=headers, timeout=5
        )
        return response.status_code, json.loads(response.text, parse_float=Decimal)

    assert refund()[1]["errors"] == {
        "payment_id": ["The payment id field is required."],
        "amount": ["The amount field is required."],
    }
    assert refund(payment_id="x", amount=1)[1]["errors"] == {
        "payment_id": ["The payment id must be a valid UUID."]
    }
    assert refund(payment_id=failed, amount=1)[0] == 422
    assert refund(payment_id=charge, amount="ten")[1]["errors"]["amount"]
    assert refund(payment_id=charge, amount=0)[0] == 422
    assert refund(payment_id=charge, amount=Decimal("0.001"))[0] == 422
    assert refund(payment_id=charge, amount=Decimal("10.01"))[1]["errors"] == {
        "amount": ["The amount may not be greater than 10.00."]
    }
    status, created = refund(payment_id=charge, amount=Decimal("10.00"))
    assert status == 200 and created["amount_refunded"] == 10
    assert _call(standin, "GET", f"charges/{charge}")[1]["status"] == "refunded"
    assert refund(payment_id=charge, amount=1)[0] == 422  # nothing left to refund


def test_hidden_charges_appear_only_once_released(standin: HitPayStandIn) -> None:
    late = standin.add_charge(created_at=AT, hidden=True)["id"]
    assert _call(standin, "GET", f"charges/{late}")[0] == 404
    assert _call(standin, "GET", "charges")[1]["data"] == []
    standin.release(late)
    assert [c["id"] for c in _call(standin, "GET", "charges")[1]["data"]] == [late]


def test_faults_apply_to_the_paths_asked_for_then_stop(standin: HitPayStandIn) -> None:
    charge = standin.add_charge()["id"]
    standin.fail_next(1, status=503, path="/v1/charges/")
    assert _call(standin, "GET", "charges")[0] == 200
    assert _call(standin, "GET", f"charges/{charge}") == (503, {"message": "Server Error"})
    assert _call(standin, "GET", f"charges/{charge}")[0] == 200
    standin.fail_next(1, status=429, retry_after="3")
    response = requests.get(f"{standin.url}/v1/charges", timeout=5)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    with pytest.raises(ValueError, match="unknown malformed body"):
        standin.malformed_next(1, "garbled")


def test_the_same_seed_gives_the_same_business() -> None:
    def business(seed: int) -> list[dict[str, Any]]:
        with HitPayStandIn(api_key="k" * 64) as standin:
            return standin.seed(seed, date(2026, 1, 1), days=7, timezone="Asia/Singapore")

    one, again, other = business(5), business(5), business(6)
    assert one == again and one != other
    assert {c["currency"] for c in one} == {"sgd", "usd", "jpy"}
    assert UNKNOWN_CHANNEL in {c["channel"] for c in one}
    assert {"failed", "succeeded", "refunded"} <= {c["status"] for c in one}
    assert any(c["status"] == "succeeded" and c["refunded_amount"] > 0 for c in one)
    assert any(len(c["refunds"]) == 2 for c in one)  # partial, then the rest
    assert all(c["fixed_fee"] + c["discount_fee"] > 0 for c in one if c["status"] == "succeeded")
    assert all(c["amount"] == c["amount"].to_integral() for c in one if c["currency"] == "jpy")
    sales = [c for c in one if c["status"] in SALE_STATUSES]
    assert len(sales) > 0.8 * len(one)
    assert all(c["created_at"].endswith("+08:00") for c in one)
