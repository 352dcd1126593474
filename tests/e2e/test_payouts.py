"""Payouts end to end: a month with payouts (a charge from before the sync was enabled, a refund
after a payout, an adjustment) books one transfer per payout, and the clearing account holds
exactly Σ(charges - fees - refunds) - Σ transfers + Σ adjustments."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core import clock
from core.connections.settings import SettingsChange, change_settings
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight


def _month(shop: Shop, day0: datetime, *, next_day: bool = True) -> dict[str, Any]:
    api = shop.charges_api

    def at(day: int, hour: int) -> datetime:
        return day0 + timedelta(days=day, hours=hour)

    before = api.add_charge(amount=Decimal("80.00"), created_at=at(0, 10))
    first = api.add_charge(amount=Decimal("120.00"), created_at=at(1, 9))
    usd = api.add_charge(amount=Decimal("45.50"), currency="usd", created_at=at(1, 11))
    second = api.add_charge(amount=Decimal("45.50"), created_at=at(1, 14))
    api.payouts.schedule(at(1, 0).date(), 2, next_day=next_day)
    refund = api.refund(first["id"], Decimal("20.00"), at=at(2, 12))
    api.payouts.adjust("sgd", Decimal("-5.00"), at(2, 13), "Chargeback fee")
    third = api.add_charge(amount=Decimal("60.00"), created_at=at(2, 14))
    api.payouts.schedule(at(3, 0).date(), 1, next_day=next_day)
    return {
        "before": before,
        "first": first,
        "usd": usd,
        "second": second,
        "third": third,
        "refund": refund,
    }


def _connect(shop: Shop, enabled: datetime, *, adjustments: bool = True) -> None:
    shop.connect(mode="bulk")
    org = shop.zoho.connected[shop.name]
    change_settings(
        shop.host,
        shop.name,
        SettingsChange(
            payout_account=org.other_bank_account,
            adjustment_account=org.adjustment_account if adjustments else None,
        ),
    )
    shop.enable(since=enabled, now=enabled)


def _payouts_after(shop: Shop, since: datetime) -> list[dict[str, Any]]:
    return [
        p
        for p in shop.charges_api.payouts.listing()
        if datetime.fromisoformat(p["created_at"]) >= since
    ]


def _signed_adjustments(shop: Shop, currency: str) -> Decimal:
    clearing = shop.zoho.connected[shop.name].bank_account
    total = Decimal(0)
    for journal in (d for d in shop.books() if d["kind"] == "adjustment"):
        if journal["currency_code"] != currency:
            continue
        for line in journal["line_items"]:
            if line["account_id"] == clearing:
                amount = Decimal(line["amount"])
                total += amount if line["debit_or_credit"] == "debit" else -amount
    return total


@pytest.mark.parametrize("next_day", [True, False], ids=["next-day-cutoff", "same-time-cutoff"])
def test_every_payout_becomes_one_transfer_and_clearing_ties_out(
    shop: Shop, next_day: bool
) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0, next_day=next_day)
    _connect(shop, enabled)

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded", report.error
    payouts = _payouts_after(shop, enabled)
    transfers = {d["reference_number"]: d for d in shop.books() if d["kind"] == "transfer"}
    assert set(transfers) == {f"hitpay:payout:{p['id']}" for p in payouts}
    for payout in payouts:
        transfer = transfers[f"hitpay:payout:{payout['id']}"]
        assert Decimal(transfer["amount"]) == Decimal(payout["amount"])
        assert transfer["currency_code"] == payout["currency"].upper()
        assert transfer["date"] == payout["created_at"][:10]
        assert transfer["from_account_id"] == shop.zoho.connected[shop.name].bank_account
    for currency in ("SGD", "USD"):
        totals = shop.totals(enabled, day0 + timedelta(days=4))[currency]
        paid = sum(
            (Decimal(p["amount"]) for p in payouts if p["currency"].upper() == currency),
            Decimal(0),
        )
        expected = totals.charges - totals.fees - totals.refunds - paid
        expected += _signed_adjustments(shop, currency)
        assert shop.clearing().get(currency, Decimal(0)) == expected
        # Everything HitPay held was paid out, so clearing is empty.
        assert shop.clearing().get(currency, Decimal(0)) == 0

    again = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=5)))
    assert again.outcome == "succeeded" and sum(again.documents_planned.values()) == 0


def test_the_unbooked_part_is_itemized_into_the_adjustment_account(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    seeded = _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    journals = [d for d in shop.books() if d["kind"] == "adjustment"]
    notes = " | ".join(j["notes"] for j in journals)
    assert f"charge {seeded['before']['id']} never synced" in notes
    assert "other movements" in notes and "-5.00" in notes
    assert all(j["status"] == "published" for j in journals)


def test_without_an_adjustment_account_a_payout_is_held_with_the_reason(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    seeded = _month(shop, day0)
    _connect(shop, enabled, adjustments=False)

    report = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    assert report.outcome == "succeeded"
    held = report.held_payouts
    assert len(held) == 2  # the one with a pre-enable charge, the one with the adjustment
    reason = next(r for r in held.values() if seeded["before"]["id"] in r)
    assert "--adjustment-account ID" in reason
    transfers = [d for d in shop.books() if d["kind"] == "transfer"]
    assert len(transfers) == len(_payouts_after(shop, enabled)) - 2

    org = shop.zoho.connected[shop.name]
    change_settings(shop.host, "shop", SettingsChange(adjustment_account=org.adjustment_account))
    later = sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=5)))
    assert later.held_payouts == {}
    assert len([d for d in shop.books() if d["kind"] == "transfer"]) == len(
        _payouts_after(shop, enabled)
    )


def _reconcile(shop: Shop) -> tuple[int, dict[str, Any]]:
    result = shop.cli("reconcile", "shop", "--json")
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.output)


def test_reconcile_ties_the_three_views_after_a_month_with_payouts(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))

    code, report = _reconcile(shop)

    assert code == 0 and report["ties"], report
    views = {view["currency"]: view for view in report["currencies"]}
    assert set(views) == {"SGD", "USD"}
    sgd = views["SGD"]
    assert Decimal(sgd["ledger"]) == Decimal(sgd["delivered"]) == Decimal(sgd["books"]) == 0
    assert Decimal(sgd["gateway_total"]) == 0
    paid = sum(
        Decimal(p["amount"]) for p in _payouts_after(shop, enabled) if p["currency"] == "sgd"
    )
    assert Decimal(sgd["paid_out"]) == paid
    text = shop.cli("reconcile", "shop")
    assert text.exit_code == 0 and "ties out" in text.output
    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["last_reconcile"]["ties"] is True
    assert "last reconcile:" in shop.cli("status", "shop").output


def test_reconcile_says_what_differs_and_exits_1(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled, adjustments=False)  # two payouts held
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    api = shop.zoho_api
    org_id = shop.organization_id
    with api.lock:
        books = api.organizations[org_id]
        payment_id = next(iter(books.payments))
        books.payments[payment_id].amount += Decimal("1.00")  # a bookkeeper's edit

    code, report = _reconcile(shop)

    assert code == 1 and not report["ties"]
    sgd = next(view for view in report["currencies"] if view["currency"] == "SGD")
    lines = "\n".join(sgd["differences"])
    assert "not booked yet" in lines and "--adjustment-account" in lines
    assert "was changed in the destination" in lines and "1.00 SGD" in lines


def test_why_names_the_payout_that_settled_a_charge(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    seeded = _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    settling = {
        charge: next(
            p
            for p in shop.charges_api.payouts.listing()
            if charge in {row["id"] for row in shop.charges_api.payouts.charges_of(p["id"]) or []}
        )
        for charge in (seeded["first"]["id"], seeded["before"]["id"])
    }
    for charge, payout in settling.items():
        result = shop.cli("why", "shop", charge)
        assert result.exit_code == 0, result.output
        assert f"Settled by payout {payout['id']} ({Decimal(payout['amount'])} SGD" in result.output
        assert f"transfer hitpay:payout:{payout['id']}: remote id" in result.output
    assert "is synced into:" in shop.cli("why", "shop", seeded["first"]["id"]).output


def test_verify_names_a_deleted_invoice_and_an_edited_payment(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    clean = shop.cli("verify", "shop", "--json")
    assert clean.exit_code == 0, clean.output
    report = json.loads(clean.output)
    assert report["clean"] and report["checked"] > 0
    assert set(report["not_checked"]) <= {"credit_refund"}

    api = shop.zoho_api
    with api.lock:
        books = api.organizations[shop.organization_id]
        credited = {note.invoice_id for note in books.creditnotes.values()}
        invoice = next(i for i in books.invoices.values() if i.invoice_id not in credited)
        # A bookkeeper deletes an invoice (Zoho wants its payments deleted first)...
        for paid in [p for p in books.payments.values() if p.applied[0][0] == invoice.invoice_id]:
            del books.payments[paid.payment_id]
        del books.invoices[invoice.invoice_id]
        payment = next(iter(books.payments.values()))
        payment.amount += Decimal("2.00")  # ... and edits another payment
    result = shop.cli("verify", "shop")

    assert result.exit_code == 1, result.output
    assert f"deleted: invoice {invoice.reference_number}" in result.output
    assert f"changed: payment {payment.reference_number}" in result.output
    assert "is now" in result.output
    later = shop.cli("verify", "shop", "--since", "2099-01-01")
    assert later.exit_code == 0 and "0 document(s) read back" in later.output


def test_without_a_payout_account_payouts_are_held_in_one_line(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    shop.connect(mode="bulk")  # no payout account
    shop.enable(since=enabled, now=enabled)

    result = shop.cli("sync", "shop", "--force")

    assert result.exit_code == 0, result.output
    count = len(_payouts_after(shop, enabled))
    assert f"payouts held: {count}: no payout account set: set it with " in result.output
    assert "--payout-account ID" in result.output
    assert not [d for d in shop.books() if d["kind"] == "transfer"]
