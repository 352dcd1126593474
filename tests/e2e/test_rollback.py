"""Rollback and repost end to end, against the HitPay and Zoho Books stand-ins (issue 18).

Sync two days, roll them back: the organization holds no document with a ledgersync key, the
clearing account is back where it started, every record is "not yet planned", the history
shows the rollback as a run. Sync again under another fee account: the books are a clean
sync's under the new setting. A document a person changed stays, named with its reason; a
group Zoho refuses part-way stays whole and books and ledger agree afterwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.connections.settings import SettingsChange, change_settings
from core.store.models import Assignment, Binding, DocumentRow, Run
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight, seed_sales
from e2e.test_cli_sync import assert_ties_out, kinds

LEDGERSYNC_PREFIX = "hitpay:"


def _synced(shop: Shop, mode: str) -> tuple[datetime, datetime]:
    now = clock.now()
    day0 = local_midnight(now, 3)
    shop.charges = seed_sales(shop.charges_api, day0)  # type: ignore[attr-defined]
    shop.connect(mode=mode)
    shop.enable(since=day0, now=day0)
    report = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert report.outcome == "succeeded", report.error
    return day0, day0 + timedelta(days=2)


def _ours(shop: Shop) -> list[dict[str, Any]]:
    return [
        dict(doc)
        for doc in shop.books()
        if str(doc.get("reference_number") or "").startswith(LEDGERSYNC_PREFIX)
        or doc["kind"] == "credit_applied"
    ]


def _ledger(shop: Shop) -> dict[str, int]:
    with shop.host.database.session() as session:
        return {
            "documents": session.scalar(select(func.count()).select_from(DocumentRow)) or 0,
            "assignments": session.scalar(select(func.count()).select_from(Assignment)) or 0,
            "bindings": session.scalar(
                select(func.count()).select_from(Binding).where(Binding.remote_kind != "contact")
            )
            or 0,
        }


def _since(day: datetime) -> str:
    return day.date().isoformat()


def _shape(books: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The books without Zoho's ids: kind, reference, amount, currency, date, accounts."""
    return sorted(
        (
            doc["kind"],
            doc.get("reference_number") or "",
            str(doc["amount"]),
            doc["currency"],
            doc.get("date") or "",
            str(doc.get("account_id") or doc.get("accounts") or ""),
        )
        for doc in books
    )


@pytest.mark.vendor_fact("zoho.delete.endpoints", "zoho.void.unassociates")
@pytest.mark.parametrize("mode", ["individual", "bulk"])
def test_a_rollback_of_everything_leaves_no_document_and_a_repost_books_the_new_setting(
    shop: Shop, mode: str
) -> None:
    day0, until = _synced(shop, mode)
    before = _ours(shop)
    assert before and kinds(before)["invoice"] >= 2

    dry = shop.cli("rollback", "shop", "--since", _since(day0), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output)
    assert len(plan["to_delete"]) == len(_shape(before)) - kinds(before).get("credit_applied", 0)
    assert _ours(shop) == before  # a dry run deletes nothing

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--yes")
    assert done.exit_code == 0, done.output
    assert "outcome: succeeded" in done.output
    assert _ours(shop) == []
    assert not [r for r in shop.zoho_api.requests if "void" in r.path]  # deleted, never voided
    assert all(amount == 0 for amount in shop.clearing().values())
    assert _ledger(shop) == {"documents": 0, "assignments": 0, "bindings": 0}
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert history[0]["trigger"] == "rollback" and history[0]["outcome"] == "succeeded"
    assert sum(history[0]["counts"]["deleted"].values()) == len(plan["to_delete"])

    org = shop.zoho_api.organization(shop.organization_id)
    with shop.zoho_api.lock:
        other_fees = org.add_account("Card fees", "expense")
    change_settings(shop.host, "shop", SettingsChange(fee_account=other_fees))
    again = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert again.outcome == "succeeded", again.error
    after = _ours(shop)
    assert_ties_out(shop, day0, until)
    assert {doc["account_id"] for doc in after if doc["kind"] == "expense"} == {other_fees}
    moved = [
        (kind, ref, amount, cur, day, other_fees if kind == "expense" else acc)
        for kind, ref, amount, cur, day, acc in _shape(before)
    ]
    assert _shape(after) == sorted(moved)


def test_a_bulk_rollback_of_one_day_takes_what_depends_on_it_and_says_so(shop: Shop) -> None:
    day0, _ = _synced(shop, "bulk")
    day1 = day0 + timedelta(days=1)
    first = shop.charges[0]  # type: ignore[attr-defined]
    shop.charges_api.refund(first["id"], Decimal("10.00"), at=day1 + timedelta(hours=19))
    assert sync(shop.host, "shop", SyncOptions(trigger="manual", force=True)).outcome == "succeeded"

    dry = shop.cli(
        "rollback", "shop", "--since", _since(day0), "--until", _since(day0), "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert "taken whole:" in dry.output
    assert f"(dated {_since(day1)})" in dry.output

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--until", _since(day0), "--yes")
    assert done.exit_code == 0, done.output
    left = _ours(shop)
    assert left and all(doc["date"] == _since(day1) for doc in left)
    assert sync(shop.host, "shop", SyncOptions(trigger="manual", force=True)).outcome == "succeeded"
    assert_ties_out(shop, day0, day0 + timedelta(days=2))


def test_a_document_a_person_edited_stays_with_its_reason_and_the_rest_goes(shop: Shop) -> None:
    day0, _ = _synced(shop, "individual")
    before = _ours(shop)
    org = shop.zoho_api.organization(shop.organization_id)
    with shop.zoho_api.lock:
        expense = next(iter(org.expenses.values()))
        expense.amount += Decimal("1.00")
        edited = expense.reference_number
    charge_key = edited.removesuffix(":expense")

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--yes")

    assert done.exit_code == 0, done.output
    assert f"stays: expense {edited}: edited in the books: amount" in done.output
    left = _ours(shop)
    group = {f"{charge_key}:invoice", f"{charge_key}:payment", edited}
    refs = {doc["reference_number"] for doc in left}
    assert group <= refs  # the group stays whole (with a credit note raised against it)
    assert all(ref in group or ref.startswith("hitpay:refund:") for ref in refs)
    assert len(left) < len(before)
    with shop.host.database.session() as session:
        rows = session.execute(select(DocumentRow.key, DocumentRow.state)).all()
    assert sorted(rows) == sorted((ref, "delivered") for ref in refs)  # books = ledger
    again = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert again.outcome == "succeeded", again.error
    assert {doc["reference_number"] for doc in _ours(shop)} == {
        doc["reference_number"] for doc in before
    }


@pytest.mark.vendor_fact(
    "zoho.delete.bank_matched_refused", "zoho.delete.invoice_with_payments_refused"
)
def test_a_group_zoho_refuses_part_way_stays_whole_and_the_books_agree(shop: Shop) -> None:
    day0, until = _synced(shop, "individual")
    org = shop.zoho_api.organization(shop.organization_id)
    with shop.zoho_api.lock:
        payment = next(p for p in org.payments.values())
        shop.zoho_api.delete_rules(org.organization_id).matched.add(payment.payment_id)
    key = payment.reference_number

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--yes")

    assert done.exit_code == 0, done.output
    assert f"stays: {key}: Zoho Books refused DELETE /customerpayments/" in done.output
    assert "already Matched or Categorized" in done.output
    refs = {doc["reference_number"] for doc in _ours(shop)}
    assert key in refs and key.replace(":payment", ":invoice") in refs
    again = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert again.outcome == "succeeded", again.error
    assert_ties_out(shop, day0, until)
    runs = []
    with shop.host.database.session() as session:
        runs = [run.trigger for run in session.scalars(select(Run).order_by(Run.id))]
    assert "rollback" in runs


def test_a_rollback_of_one_run_takes_only_what_that_run_delivered(shop: Shop) -> None:
    day0, _ = _synced(shop, "individual")
    first = _ours(shop)
    late = shop.charges_api.add_charge(
        amount=Decimal("7.00"), created_at=clock.now() - timedelta(minutes=30)
    )
    second = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert second.outcome == "succeeded" and second.documents_delivered["invoice"] == 1

    done = shop.cli("rollback", "shop", "--run", str(second.run_id), "--yes", "--json")

    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert {doc["key"].split(":")[2] for doc in result["to_delete"]} == {late["id"]}
    assert _ours(shop) == first
    refused = shop.cli("rollback", "shop", "--since", _since(day0), "--run", "1")
    assert refused.exit_code == 2 and "either --run N or --since DATE" in refused.output


@pytest.mark.vendor_fact("zoho.delete.locked_period")
def test_a_locked_period_keeps_its_groups_with_zohos_reason_and_the_rest_goes(shop: Shop) -> None:
    day0, until = _synced(shop, "individual")
    shop.zoho_api.delete_rules(shop.organization_id).locked_until = _since(day0)

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--yes")

    assert done.exit_code == 0, done.output
    assert "are locked up to" in done.output
    assert {doc["date"] for doc in _ours(shop) if doc.get("date")} == {_since(day0)}
    assert sync(shop.host, "shop", SyncOptions(trigger="manual", force=True)).outcome == "succeeded"
    assert_ties_out(shop, day0, until)


def test_a_daily_payment_and_daily_fee_are_taken_whole_with_every_invoice_they_cover(
    shop: Shop,
) -> None:
    now = clock.now()
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    change_settings(shop.host, "shop", SettingsChange(payments="daily", fees="daily"))
    shop.enable(since=day0, now=day0)
    assert sync(shop.host, "shop", SyncOptions(trigger="manual", force=True)).outcome == "succeeded"
    day1 = _since(day0 + timedelta(days=1))
    daily = [d for d in _ours(shop) if d["kind"] == "payment" and d["date"] == day1]
    assert daily and len(daily[0]["invoices"]) == 2  # one payment settles the day's invoices

    done = shop.cli("rollback", "shop", "--run", "1", "--dry-run", "--json")
    assert done.exit_code == 0, done.output
    keys = [d["key"] for d in json.loads(done.output)["to_delete"]]
    assert len(keys) == len(set(keys))
    done = shop.cli("rollback", "shop", "--since", day1, "--until", day1, "--yes")
    assert done.exit_code == 0, done.output

    assert day1 not in {d.get("date") for d in _ours(shop)}
    assert sync(shop.host, "shop", SyncOptions(trigger="manual", force=True)).outcome == "succeeded"
    assert_ties_out(shop, day0, day0 + timedelta(days=2))


def test_a_document_moved_to_another_account_stays_but_a_settings_change_moves_nothing(
    shop: Shop,
) -> None:
    """Moving an expense to another account is an edit by a person; changing the fee account
    setting afterwards is not, so every other document still goes."""
    day0, _ = _synced(shop, "individual")
    seeded = shop.zoho.connected[shop.name]
    office = seeded.wrong_type_accounts["Office Supplies"]  # an expense account
    change_settings(shop.host, "shop", SettingsChange(fee_account=office))
    org = shop.zoho_api.organization(shop.organization_id)
    with shop.zoho_api.lock:
        expense = next(iter(org.expenses.values()))
        expense.account_id = office  # the new setting's account, but moved by hand
        moved = expense.reference_number
    charge_key = moved.removesuffix(":expense")

    done = shop.cli("rollback", "shop", "--since", _since(day0), "--yes")

    assert done.exit_code == 0, done.output
    assert (
        f"stays: expense {moved}: edited in the books: account {seeded.fee_account} is now "
        f"{office}" in done.output
    )
    group = {f"{charge_key}:invoice", f"{charge_key}:payment", moved}
    refs = {doc["reference_number"] for doc in _ours(shop)}
    assert group <= refs
    assert all(ref in group or ref.startswith("hitpay:refund:") for ref in refs)
