"""Refund discovery: refunded charges are re-read, details fetched only when they changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.records import Quarantined, Refund
from hitpay.conftest import SourceFactory, split, window
from plugins.hitpay_source.refunds import refunds_of
from plugins.hitpay_source.testing.standin import HitPayStandIn

SALE = datetime.fromisoformat("2026-03-04T10:00:00+08:00")


def _details_read(standin: HitPayStandIn) -> list[str]:
    return [r.path for r in standin.requests if r.path.startswith("/v1/charges/")]


@pytest.mark.vendor_fact("hitpay.refund.multiple_partial_and_limits", "hitpay.refund.no_list")
def test_a_partial_then_a_full_refund_are_discovered_once_each(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    charge = standin.add_charge(created_at=SALE, amount=Decimal("120.00"))["id"]
    other = standin.add_charge(created_at=SALE + timedelta(minutes=1))["id"]  # never refunded
    source, _ = open_source()
    state: dict[str, Any] = {}
    since = SALE - timedelta(days=1)

    def run(hours: int) -> tuple[list[Any], list[Any], list[Any]]:
        end = SALE + timedelta(hours=hours)
        standin.clear_requests()
        return split(list(source.fetch(window(end - timedelta(hours=2), end, since), state)))

    charges, refunds, _ = run(1)
    assert {c.source_id for c in charges} == {charge, other} and refunds == []

    partial = standin.refund(charge, Decimal("30.50"), at=SALE + timedelta(hours=2))
    _, refunds, _ = run(3)
    assert [(r.source_id, r.charge_id, r.amount, r.currency) for r in refunds] == [
        (partial["id"], charge, Decimal("30.50"), "SGD")
    ]
    assert refunds[0].created_at == SALE + timedelta(hours=2)
    assert _details_read(standin) == [f"/v1/charges/{charge}"]
    listing = next(r for r in standin.requests if r.param("statuses[]"))
    assert [v for k, v in listing.query if k == "statuses[]"] == [
        "succeeded",
        "succeeded_manually",
        "refunded",
        "partially_refunded",
    ]

    _, refunds, _ = run(4)  # nothing changed: no detail read, nothing new
    assert refunds == [] and _details_read(standin) == []

    rest = standin.refund(charge, Decimal("89.50"), at=SALE + timedelta(hours=5))
    _, refunds, _ = run(6)
    assert {r.source_id: r.amount for r in refunds} == {
        partial["id"]: Decimal("30.50"),
        rest["id"]: Decimal("89.50"),
    }  # the first again with the same id: the host upserts, never duplicates
    assert sum(r.amount for r in refunds) == Decimal("120.00")
    assert state["refunds_seen"][charge]["refunded_amount"] == "120.00"

    _, refunds, _ = run(7)
    assert refunds == [] and _details_read(standin) == []


def test_refunds_of_charges_older_than_the_look_back_are_not_read(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    old = standin.add_charge(created_at=SALE - timedelta(days=130))["id"]
    recent = standin.add_charge(created_at=SALE - timedelta(days=100), amount=Decimal(50))["id"]
    standin.refund(old, Decimal("1.00"), at=SALE)
    standin.refund(recent, Decimal("2.00"), at=SALE)
    source, _ = open_source()
    state: dict[str, Any] = {"refunds_seen": {old: {"created_at": "2025-10-25T10:00:00+08:00"}}}

    _, refunds, _ = split(
        list(source.fetch(window(SALE, SALE + timedelta(1), SALE - timedelta(120)), state))
    )

    assert [r.charge_id for r in refunds] == [recent]
    assert list(state["refunds_seen"]) == [recent]  # old bookkeeping pruned


def test_jpy_refund_amounts_are_whole_yen(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    charge = standin.add_charge(created_at=SALE, currency="jpy", amount=Decimal(15000))["id"]
    standin.refund(charge, 4000, at=SALE + timedelta(hours=1))
    source, _ = open_source()

    _, refunds, _ = split(list(source.fetch(window(SALE, SALE + timedelta(1)), {})))

    assert [(r.amount, r.currency) for r in refunds] == [(Decimal(4000), "JPY")]
    assert str(refunds[0].amount) == "4000"


# -- refunds_of: the shapes HitPay leaves undocumented ------------------------------------


def _detail(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c1",
        "currency": "sgd",
        "amount": Decimal("100"),
        "refunded_amount": Decimal("0"),
        "created_at": "2025-05-21T10:00:00+08:00",
        "updated_at": "2025-05-21T18:00:00+08:00",
        "refunds": [],
    }
    return base | fields


@pytest.mark.vendor_fact("hitpay.refund.timestamp_forms")
def test_a_refund_time_without_offset_is_read_in_the_charges_offset() -> None:
    entry = {"id": "r1", "amount_refunded": 1, "created_at": "2025-05-21T17:17:52"}
    found, total = refunds_of(_detail(refunded_amount=1, refunds=[entry]))
    assert all(isinstance(r, Refund) for r in found)
    assert [(r.source_id, r.created_at.isoformat()) for r in found if isinstance(r, Refund)] == [
        ("r1", "2025-05-21T17:17:52+08:00")
    ]
    assert total == Decimal(1)


def test_refund_entries_without_an_id_get_a_stable_one() -> None:
    entry = {"amount": Decimal("2.50"), "refunded_at": "2025-05-21T09:17:52.000000Z"}
    first, _ = refunds_of(_detail(refunded_amount=Decimal("2.50"), refunds=[entry]))
    again, _ = refunds_of(_detail(refunded_amount=Decimal("2.50"), refunds=[dict(entry)]))
    assert first == again and str(first[0].source_id).startswith("c1:refund:")


@pytest.mark.vendor_fact("hitpay.refund.entry_schema")
def test_without_refund_entries_the_growth_of_refunded_amount_is_one_refund() -> None:
    first, total = refunds_of(_detail(refunded_amount=Decimal("30"), refunds=None))
    second, total2 = refunds_of(_detail(refunded_amount=Decimal("50"), refunds=None), total)
    assert [(r.source_id, r.amount) for r in first + second if isinstance(r, Refund)] == [
        ("c1:refunded-to:30.00", Decimal("30.00")),
        ("c1:refunded-to:50.00", Decimal("20.00")),
    ]
    assert total2 == Decimal(50)


def test_refund_entries_that_do_not_add_up_are_reported_not_dropped() -> None:
    entry = {"id": "r1", "amount_refunded": 10, "refunded_at": "2025-05-21T09:17:52Z"}
    found, _ = refunds_of(_detail(refunded_amount=Decimal("25"), refunds=[entry]))
    assert [type(item).__name__ for item in found] == ["Refund", "Quarantined"]
    assert isinstance(found[1], Quarantined)
    assert "refunded_amount 25.00 but its refunds add up to 10.00" in found[1].reason


def test_malformed_refund_entries_are_quarantined() -> None:
    entries = [
        {"id": "r1", "amount_refunded": "x", "refunded_at": "2025-05-21T09:17:52Z"},
        {
            "id": "r2",
            "amount_refunded": 1,
            "currency": "usd",
            "refunded_at": "2025-05-21T09:17:52Z",
        },
        {"id": "r3", "amount_refunded": 1},
        "not an object",
        {"id": "r4", "amount_refunded": 1, "status": "failed", "refunded_at": "2025-05-21Z"},
    ]
    found, _ = refunds_of(_detail(refunded_amount=Decimal("4"), refunds=entries))
    assert [(getattr(q, "source_id", None), q.kind) for q in found] == [
        ("r1", "refund"),
        ("r2", "refund"),
        ("r3", "refund"),
        (None, "refund"),
    ]


@given(
    cents=st.lists(st.integers(min_value=1, max_value=5_000), min_size=1, max_size=6),
    looks=st.lists(st.booleans(), min_size=6, max_size=6),
    with_entries=st.booleans(),
)
def test_refunds_found_over_any_run_schedule_add_up_once(
    cents: list[int], looks: list[bool], with_entries: bool
) -> None:
    """However the refunds fall between runs, each is found under one id, and they sum to
    what HitPay says was refunded."""
    amounts = [Decimal(c).scaleb(-2) for c in cents]
    entries: list[dict[str, Any]] = []
    found: dict[str, Decimal] = {}
    remembered = Decimal(0)
    for index, amount in enumerate(amounts):
        moment = SALE + timedelta(hours=index + 1)
        entries.append({"id": f"r{index}", "amount_refunded": amount, "refunded_at": str(moment)})
        if not (looks[index] or index == len(amounts) - 1):
            continue  # no run saw this state
        detail = _detail(
            amount=sum(amounts),
            refunded_amount=sum(e["amount_refunded"] for e in entries),
            refunds=list(entries) if with_entries else [],
            updated_at=moment.isoformat(),
        )
        items, remembered = refunds_of(detail, remembered)
        for item in items:
            assert isinstance(item, Refund)
            assert found.setdefault(item.source_id, item.amount) == item.amount
    assert sum(found.values()) == sum(amounts) == remembered
    if with_entries:
        assert set(found) == {f"r{i}" for i in range(len(amounts))}
