"""``ledgersync verify`` beyond amounts and dates: a bookkeeper who moves a document to another
account or another customer in Zoho Books is named, with the account or customer it was
written with and the one it has now."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from core import clock
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight
from e2e.test_payouts import _connect, _month
from plugins.zoho_books.testing.standin.records import Contact


def test_verify_names_a_document_moved_to_another_account_or_customer(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    assert shop.cli("verify", "shop").exit_code == 0

    seeded = shop.zoho.connected[shop.name]
    office = seeded.wrong_type_accounts["Office Supplies"]
    with shop.zoho_api.lock:
        books = shop.zoho_api.organizations[shop.organization_id]
        expense = next(iter(books.expenses.values()))
        expense.account_id = office  # re-categorized by a bookkeeper
        invoice = next(iter(books.invoices.values()))
        written_to = invoice.customer_id
        other = Contact(books.new_id(), "Walk-in", "customer", invoice.currency_id)
        books.contacts[other.contact_id] = other
        invoice.customer_id = other.contact_id  # moved to another customer
        deposit = next(p for p in books.payments.values() if p.applied[0][0] != invoice.invoice_id)
        deposit.account_id = seeded.other_bank_account  # deposited elsewhere

    result = shop.cli("verify", "shop", "--json")

    assert result.exit_code == 1, result.output
    found = {f["key"]: f for f in json.loads(result.output)["findings"]}
    assert found[expense.reference_number]["problem"] == "changed"
    assert (
        f"account {seeded.fee_account} is now {office}"
        in (found[expense.reference_number]["detail"])
    )
    assert (
        f"customer {written_to} is now {other.contact_id}"
        in (found[invoice.reference_number]["detail"])
    )
    assert (
        f"account {seeded.bank_account} is now {seeded.other_bank_account}"
        in (found[deposit.reference_number]["detail"])
    )
    assert len(found) == 3, found


def test_repair_restores_a_deleted_invoice_and_its_payment_and_leaves_an_edit_reported(
    shop: Shop,
) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    before = shop.books()
    api = shop.zoho_api
    with api.lock:
        books = api.organizations[shop.organization_id]
        credited = {note.invoice_id for note in books.creditnotes.values()}
        invoice = next(i for i in books.invoices.values() if i.invoice_id not in credited)
        paid = [p for p in books.payments.values() if p.applied[0][0] == invoice.invoice_id]
        for payment in paid:  # Zoho wants an invoice's payments deleted first
            del books.payments[payment.payment_id]
        del books.invoices[invoice.invoice_id]
        edited = next(iter(books.payments.values()))
        edited.amount += Decimal("2.00")
        expense = next(iter(books.expenses.values()))
        del books.expenses[expense.expense_id]

    result = shop.cli("verify", "shop", "--repair", "--json")

    assert result.exit_code == 1, result.output  # the edited payment is left for a person
    report = json.loads(result.output)["repair"]
    lost = [invoice.reference_number, *(p.reference_number for p in paid)]
    lost.append(expense.reference_number)
    assert report["replanned"] == {key: f"{key}:r1" for key in lost}
    assert report["left"] == [
        f"payment {edited.reference_number} was changed (amount "
        f"{edited.amount - Decimal('2.00')} SGD is now {edited.amount}): not overwritten"
    ]
    after = {d["reference_number"]: d for d in shop.books()}
    for was in (d for d in before if d["reference_number"] in lost):
        again = after[f"{was['reference_number']}:r1"]
        assert (again["kind"], Decimal(again["amount"]), again["date"]) == (
            was["kind"],
            Decimal(was["amount"]),
            was["date"],
        )
    assert len(after) == len(before)  # the three lost came back, nothing else was added

    again = shop.cli("verify", "shop", "--repair", "--json")
    assert again.exit_code == 1
    assert json.loads(again.output)["repair"]["replanned"] == {}
    assert len(shop.books()) == len(before)
    findings = json.loads(again.output)["findings"]
    assert [(f["key"], f["problem"]) for f in findings] == [(edited.reference_number, "changed")]
    reconciled = json.loads(shop.cli("reconcile", "shop", "--json").output)
    sgd = next(view for view in reconciled["currencies"] if view["currency"] == "SGD")
    assert "2.00 SGD was changed in the destination" in "\n".join(sgd["differences"])


def test_repair_delivers_a_voided_invoice_again_with_its_payment(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    with shop.zoho_api.lock:
        books = shop.zoho_api.organizations[shop.organization_id]
        credited = {note.invoice_id for note in books.creditnotes.values()}
        invoice = next(i for i in books.invoices.values() if i.invoice_id not in credited)
        paid = [p for p in books.payments.values() if p.applied[0][0] == invoice.invoice_id]
        for payment in paid:  # Zoho voids an invoice only once its payments are deleted
            del books.payments[payment.payment_id]
        invoice.status = "void"

    result = shop.cli("verify", "shop", "--repair")

    assert result.exit_code == 0, result.output
    assert f"voided: invoice {invoice.reference_number}" in result.output
    for key in (invoice.reference_number, *(p.reference_number for p in paid)):
        assert f"repaired: {key} delivered again as {key}:r1" in result.output
    new = next(i for i in books.invoices.values() if i.reference_number.endswith(":r1"))
    assert new.status == "paid" and new.total == invoice.total
    assert shop.cli("verify", "shop").exit_code == 0
    assert json.loads(shop.cli("reconcile", "shop", "--json").output)["ties"]


def test_a_settings_change_is_not_a_change_in_the_books_but_an_edit_after_it_is(
    shop: Shop,
) -> None:
    """Documents are judged by the settings they were written with: after the fee account
    changes, older expenses on the old account are fine, newer ones on the new account too, and
    an older expense moved by hand to the new account is still named."""
    day0 = local_midnight(clock.now(), 10)
    enabled = day0 + timedelta(days=1)
    _month(shop, day0)
    _connect(shop, enabled)
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    seeded = shop.zoho.connected[shop.name]
    with shop.zoho_api.lock:
        older = set(shop.zoho_api.organizations[shop.organization_id].expenses)
    assert older
    office = seeded.wrong_type_accounts["Office Supplies"]  # an expense account too

    changed = shop.cli("settings", "shop", "--fee-account", office)
    assert changed.exit_code == 0, changed.output
    shop.charges_api.add_charge(
        amount=Decimal("33.00"), created_at=day0 + timedelta(days=5, hours=9)
    )
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=8, hours=3)))

    with shop.zoho_api.lock:
        books = shop.zoho_api.organizations[shop.organization_id]
        newer = [e for i, e in books.expenses.items() if i not in older]
        assert newer and all(e.account_id == office for e in newer)
        assert all(books.expenses[i].account_id == seeded.fee_account for i in older)
    clean = shop.cli("verify", "shop", "--json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["findings"] == []

    with shop.zoho_api.lock:
        moved = books.expenses[sorted(older)[0]]
        moved.account_id = office  # a bookkeeper moved an older expense to the new account
    result = shop.cli("verify", "shop", "--json")

    assert result.exit_code == 1, result.output
    found = {f["key"]: f for f in json.loads(result.output)["findings"]}
    assert list(found) == [moved.reference_number]
    assert (
        f"account {seeded.fee_account} is now {office}" in found[moved.reference_number]["detail"]
    )


def test_repair_delivers_a_deleted_credit_note_again_with_its_refunds(shop: Shop) -> None:
    """Refunds cannot be listed back, but a credit note goes only with its refunds: both come
    back, and the clearing account ties out again."""
    day0 = local_midnight(clock.now(), 10)
    _month(shop, day0)
    _connect(shop, day0 + timedelta(days=1))
    sync(shop.host, "shop", SyncOptions(now=day0 + timedelta(days=4, hours=3)))
    before = {d["reference_number"]: d for d in shop.books()}
    api = shop.zoho_api
    with api.lock:
        books = api.organizations[shop.organization_id]
        note = next(iter(books.creditnotes.values()))
        refunds = [r for r in books.refunds.values() if r.creditnote_id == note.creditnote_id]
        assert refunds, "the month's refund was booked as a credit note and its refund"
        for refund in refunds:  # Zoho wants a credit note's refunds deleted first
            del books.refunds[refund.creditnote_refund_id]
        del books.creditnotes[note.creditnote_id]
    lost = [note.reference_number, *(r.reference_number for r in refunds)]
    assert json.loads(shop.cli("reconcile", "shop", "--json").output)["ties"] is False

    result = shop.cli("verify", "shop", "--repair", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["repair"]["replanned"] == {k: f"{k}:r1" for k in lost}
    after = {d["reference_number"]: d for d in shop.books()}
    for key in lost:
        again, was = after[f"{key}:r1"], before[key]
        assert (again["kind"], Decimal(again["amount"])) == (was["kind"], Decimal(was["amount"]))
    assert len(after) == len(before)
    reconciled = shop.cli("reconcile", "shop", "--json")
    assert reconciled.exit_code == 0, reconciled.output
