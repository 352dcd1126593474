"""HitPay facts held on both sides (docs/vendor-facts.md): the API roots, a charge that is not
there, and the refund object read back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests

from core.errors import BadRecord, ConfigurationError
from core.records import Refund
from hitpay.conftest import SourceFactory, split, window
from plugins.hitpay_source.connecting import api_url_for
from plugins.hitpay_source.refunds import refunds_of
from plugins.hitpay_source.settings import LIVE_URL, SANDBOX_URL, check_api_url
from plugins.hitpay_source.testing.standin import HitPayStandIn

SALE = datetime.fromisoformat("2026-03-04T10:00:00+08:00")
UNKNOWN = "9cecc92d-0000-4000-8000-000000000000"


@pytest.mark.vendor_fact("hitpay.base_url.live_sandbox")
def test_live_and_sandbox_roots_and_every_path_under_v1(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    assert (LIVE_URL, SANDBOX_URL) == ("https://api.hit-pay.com", "https://api.sandbox.hit-pay.com")
    assert api_url_for(False, None) == LIVE_URL and api_url_for(True, None) == SANDBOX_URL
    with pytest.raises(ConfigurationError, match="not https"):
        check_api_url("http://api.hit-pay.com")
    standin.add_charge(created_at=SALE)
    source, _ = open_source()

    list(source.fetch(window(SALE, SALE + timedelta(1)), {}))

    assert standin.requests and all(r.path.startswith("/v1/") for r in standin.requests)
    outside = requests.get(
        f"{standin.url}/charges", headers={"X-BUSINESS-API-KEY": standin.api_key}, timeout=5
    )
    assert outside.status_code == 404


@pytest.mark.vendor_fact("hitpay.charge.not_found")
@pytest.mark.parametrize("answer", ["laravel", "json", "html"])
def test_a_charge_that_is_not_there_is_unknown_whatever_the_404_body(
    standin: HitPayStandIn, open_source: SourceFactory, answer: str
) -> None:
    if answer == "json":
        standin.fail_next(1, status=404, path="/v1/charges/")
    elif answer == "html":
        standin.malformed_next(1, "html", path="/v1/charges/", status=404)
    source, _ = open_source()

    assert source.lookup(UNKNOWN) is None

    if answer == "laravel":
        body = requests.get(
            f"{standin.url}/v1/charges/{UNKNOWN}",
            headers={"X-BUSINESS-API-KEY": standin.api_key},
            timeout=5,
        ).json()
        assert (
            body["message"].startswith("No query results for model")
            and UNKNOWN in (body["message"])
        )


@pytest.mark.vendor_fact("hitpay.charge.not_found")
def test_a_charge_listed_as_refunded_whose_detail_is_gone_is_quarantined_as_a_refund(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    charge = standin.add_charge(created_at=SALE, amount=Decimal("30.00"))["id"]
    standin.refund(charge, Decimal("5.00"), at=SALE + timedelta(minutes=5))
    standin.fail_next(1, status=404, path=f"/v1/charges/{charge}")
    source, _ = open_source()

    _, refunds, quarantined = split(list(source.fetch(window(SALE, SALE + timedelta(1)), {})))

    assert refunds == []
    assert [(q.source_id, q.kind) for q in quarantined] == [(charge, "refund")]
    assert "details are gone (404)" in quarantined[0].reason


@pytest.mark.vendor_fact("hitpay.refund.get", "hitpay.refund.timestamp_forms")
def test_a_refund_read_back_is_the_object_refunds_are_read_from(standin: HitPayStandIn) -> None:
    charge = standin.add_charge(created_at=SALE, amount=Decimal("40.00"))
    created = standin.refund(charge["id"], Decimal("12.50"), at=SALE + timedelta(hours=1))
    got = requests.get(
        f"{standin.url}/v1/refund/{created['id']}",
        headers={"X-BUSINESS-API-KEY": standin.api_key},
        timeout=5,
    )
    read_back = json.loads(got.text, parse_float=Decimal)
    assert got.status_code == 200
    assert {k: read_back[k] for k in ("id", "payment_id", "currency", "status")} == {
        k: created[k] for k in ("id", "payment_id", "currency", "status")
    }
    assert (read_back["amount_refunded"], read_back["total_amount"]) == (
        Decimal("12.50"),
        Decimal("40.00"),
    )
    assert read_back["refunded_at"].endswith("000Z")

    # HitPay's own example sends created_at without an offset: both forms read to one moment.
    for entry in (
        read_back,
        read_back | {"refunded_at": None, "created_at": "2026-03-04T11:00:00"},
    ):
        detail = {**charge, "refunded_amount": Decimal("12.50"), "refunds": [entry]}
        found, total = refunds_of(detail)
        [refund] = found
        assert isinstance(refund, Refund) and total == Decimal("12.50")
        assert refund.created_at == SALE + timedelta(hours=1)
        assert (refund.source_id, refund.amount) == (created["id"], Decimal("12.50"))
    assert (
        requests.get(
            f"{standin.url}/v1/refund/nope",
            headers={"X-BUSINESS-API-KEY": standin.api_key},
            timeout=5,
        ).status_code
        == 404
    )


def test_lookup_of_a_non_sale_names_its_status(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    pending = standin.add_charge(created_at=SALE, status="pending")["id"]
    source, _ = open_source()
    with pytest.raises(BadRecord, match="'pending': the payment has not completed"):
        source.lookup(pending)
