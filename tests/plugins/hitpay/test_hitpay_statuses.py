"""Charge statuses as HitPay's evidence shows them: non-sales are skipped with a reason, and
refunds are found by ``refunded_amount`` whatever the status, under every variant the evidence
leaves open (docs/vendor-facts.md: hitpay.charge.status_values,
hitpay.refund.partial_keeps_succeeded, hitpay.charges.default_status_filter,
hitpay.charge.detail_only_fields)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from core.errors import BadRecord
from core.host import Host
from core.sync.diagnosis import explain_charge
from hitpay.conftest import SourceFactory, split, window
from plugins.hitpay_source.parsing import NON_SALE_STATUSES, SALE_STATUSES
from plugins.hitpay_source.testing.standin import HitPayStandIn, Variant

SALE = datetime.fromisoformat("2026-03-04T10:00:00+08:00")
EVIDENCE_NON_SALES = [
    "pending",
    "failed",
    "void",
    "cancelled",
    "canceled",
    "requires_payment_method",
    "requires_customer_action",
]
VARIANTS = [
    Variant(partial_refund_status=status, refunded_amount_listed=listed, default_status_filter=f)
    for status, listed, f in itertools.product(
        ("succeeded", "partially_refunded"), (False, True), (False, True)
    )
]


def _name(variant: Variant) -> str:
    return (
        f"partial-{variant.partial_refund_status}"
        f"-{'listed' if variant.refunded_amount_listed else 'detail'}-amount"
        f"-{'default' if variant.default_status_filter else 'no'}-filter"
    )


def _details_read(hitpay: HitPayStandIn) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in hitpay.requests if r.path.startswith("/v1/charges/")]


@pytest.mark.vendor_fact("hitpay.charge.status_values")
def test_every_status_the_evidence_shows_is_a_sale_or_not() -> None:
    assert set(EVIDENCE_NON_SALES) == NON_SALE_STATUSES
    assert {"succeeded", "succeeded_manually", "refunded", "partially_refunded"} == SALE_STATUSES


@pytest.mark.vendor_fact("hitpay.charge.status_values")
@pytest.mark.parametrize("status", EVIDENCE_NON_SALES)
def test_a_charge_that_is_no_sale_is_skipped_with_its_reason_not_quarantined(
    standin: HitPayStandIn, open_source: SourceFactory, host: Host, status: str
) -> None:
    sale = standin.add_charge(created_at=SALE)["id"]
    other = standin.add_charge(created_at=SALE, status=status, amount=Decimal("7.00"))["id"]
    source, _ = open_source()

    charges, refunds, quarantined = split(list(source.fetch(window(SALE, SALE + timedelta(1)), {})))

    assert [c.source_id for c in charges] == [sale]
    assert refunds == [] and quarantined == []
    with pytest.raises(BadRecord, match=f"its status at HitPay is '{status}': "):
        source.lookup(other)
    lines = explain_charge(host, "shop0", other)
    assert lines[0].startswith(f"Charge {other} is not synced: its status at HitPay is '{status}'")
    assert lines[0].endswith("so it is not a sale.")


@pytest.mark.vendor_fact("hitpay.charge.status_values")
def test_a_status_nobody_has_seen_is_quarantined_with_its_name(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    odd = standin.add_charge(created_at=SALE, status="requires_capture")["id"]
    source, _ = open_source()

    _, _, quarantined = split(list(source.fetch(window(SALE, SALE + timedelta(1)), {})))

    assert [(q.source_id, q.reason) for q in quarantined] == [
        (odd, "unknown charge status 'requires_capture'")
    ]
    with pytest.raises(BadRecord, match="'requires_capture', which is not a completed sale"):
        source.lookup(odd)


@pytest.mark.vendor_fact(
    "hitpay.refund.partial_keeps_succeeded",
    "hitpay.charges.default_status_filter",
    "hitpay.charge.detail_only_fields",
)
@pytest.mark.parametrize("variant", VARIANTS, ids=_name)
def test_partial_refunds_are_found_whatever_the_status_says(
    open_source: SourceFactory, variant: Variant
) -> None:
    with HitPayStandIn(variant=variant) as hitpay:
        charge = hitpay.add_charge(created_at=SALE, amount=Decimal("100.00"))["id"]
        quiet = hitpay.add_charge(created_at=SALE + timedelta(minutes=1))["id"]
        source, _ = open_source(api_url=hitpay.url, api_key=hitpay.api_key)
        state: dict[str, Any] = {}
        since = SALE - timedelta(days=1)
        found: list[tuple[str, Decimal]] = []

        def run(hours: int) -> list[str]:
            end = SALE + timedelta(hours=hours)
            hitpay.clear_requests()
            charges, refunds, quarantined = split(
                list(source.fetch(window(end - timedelta(hours=2), end, since), state))
            )
            assert quarantined == []
            found.extend((r.source_id, r.amount) for r in refunds)
            return [c.source_id for c in charges]

        assert sorted(run(1)) == sorted([charge, quiet])
        assert _details_read(hitpay) == []  # no sign of a refund: no detail read

        first = hitpay.refund(charge, Decimal("30.00"), at=SALE + timedelta(hours=2))
        assert hitpay.charge(charge)["status"] == variant.partial_refund_status
        run(3)
        assert found == [(first["id"], Decimal("30.00"))]
        assert _details_read(hitpay) == [charge]

        run(4)  # nothing changed: nothing read, nothing new
        assert _details_read(hitpay) == [] and len(found) == 1

        second = hitpay.refund(charge, Decimal("20.00"), at=SALE + timedelta(hours=5))
        run(6)
        rest = hitpay.refund(charge, Decimal("50.00"), at=SALE + timedelta(hours=7))
        assert hitpay.charge(charge)["status"] == "refunded"
        run(8)

        amounts = dict(found)  # a refund found again keeps its id: the host upserts it
        assert amounts == {
            first["id"]: Decimal("30.00"),
            second["id"]: Decimal("20.00"),
            rest["id"]: Decimal("50.00"),
        }
        assert quiet not in _details_read(hitpay)


@pytest.mark.vendor_fact(
    "hitpay.refund.partial_keeps_succeeded", "hitpay.charges.default_status_filter"
)
@pytest.mark.parametrize("variant", VARIANTS, ids=_name)
def test_a_sale_refunded_before_its_first_sync_is_synced_with_its_refund(
    open_source: SourceFactory, variant: Variant
) -> None:
    with HitPayStandIn(variant=variant) as hitpay:
        charge = hitpay.add_charge(created_at=SALE, amount=Decimal("80.00"))["id"]
        refund = hitpay.refund(charge, Decimal("15.00"), at=SALE + timedelta(minutes=30))
        failed = hitpay.add_charge(created_at=SALE, status="canceled")["id"]
        source, _ = open_source(api_url=hitpay.url, api_key=hitpay.api_key)

        charges, refunds, quarantined = split(
            list(source.fetch(window(SALE, SALE + timedelta(hours=1)), {}))
        )

        # Under a default filter that hides "partially_refunded", the explicit listing of
        # refund-bearing statuses still yields the sale, once.
        assert [c.source_id for c in charges] == [charge]
        assert [(r.source_id, r.amount) for r in refunds] == [(refund["id"], Decimal("15.00"))]
        assert quarantined == [] and failed not in _details_read(hitpay)


@pytest.mark.vendor_fact("hitpay.charges.default_status_filter")
def test_the_default_status_filter_variant_hides_what_hitpays_example_hides() -> None:
    with HitPayStandIn(variant=Variant(default_status_filter=True)) as hitpay:
        shown = {
            s: hitpay.add_charge(created_at=SALE, status=s)["id"] for s in sorted(SALE_STATUSES)
        }
        hitpay.add_charge(created_at=SALE, status="pending")
        answer = requests.get(
            f"{hitpay.url}/v1/charges", headers={"X-BUSINESS-API-KEY": hitpay.api_key}, timeout=5
        ).json()

    listed = {row["id"] for row in answer["data"]}
    assert listed == {shown["succeeded"], shown["succeeded_manually"], shown["refunded"]}


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="partial_refund_status"):
        Variant(partial_refund_status="partial")
