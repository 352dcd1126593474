"""Deleting in Zoho Books (rollback): the endpoints, "already gone" counts as done, and the
order rules the stand-in enforces (docs/vendor-facts.md, section N), each in its variants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.contracts import AccountSettings, DeliveryContext
from core.documents import CreditNote, CreditRefund, Expense, Invoice, Payment
from core.errors import DeletionRefused
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.helpers import Build

DAY = date(2026, 1, 14)


def _documents() -> tuple[Invoice, Payment, CreditNote, CreditRefund]:
    amount = Decimal("100.00")
    invoice = Invoice("t:1:invoice", DAY, "SGD", amount, ("1",))
    payment = Payment("t:1:payment", DAY, "SGD", amount, ("1",), invoice_key=invoice.key)
    note = CreditNote(
        "t:r1:credit_note", DAY, "SGD", Decimal("30.00"), ("r1",), invoice_key=invoice.key
    )
    refund = CreditRefund(
        "t:r1:credit_refund", DAY, "SGD", Decimal("30.00"), ("r1",), credit_note_key=note.key
    )
    return invoice, payment, note, refund


def _deliver_all(
    destination: ZohoBooksDestination, settings: AccountSettings
) -> tuple[dict[str, str], tuple[Invoice, Payment, CreditNote, CreditRefund]]:
    documents = _documents()
    ids: dict[str, str] = {}
    for document in documents:
        context = DeliveryContext(settings, dict(ids))
        ids[document.key] = destination.deliver(document, context)
    return ids, documents


def _context(settings: AccountSettings, ids: dict[str, str]) -> DeliveryContext:
    return DeliveryContext(settings, dict(ids))


@pytest.mark.vendor_fact("zoho.delete.endpoints")
def test_each_kind_is_deleted_in_reverse_order_and_a_second_delete_is_already_done(
    build: Build, settings: AccountSettings, zoho: ZohoBooksStandIn, org: SeededOrganization
) -> None:
    destination = build()
    ids, documents = _deliver_all(destination, settings)
    fee = Expense("t:1:expense", DAY, "SGD", Decimal("3.10"), ("1",))
    ids[fee.key] = destination.deliver(fee, _context(settings, ids))
    for document in (documents[3], documents[2], documents[1], fee, documents[0]):
        destination.delete(ids[document.key], document, _context(settings, ids))
        destination.delete(ids[document.key], document, _context(settings, ids))  # gone: done
    books = zoho.books(org.organization_id)
    for section in ("invoices", "payments", "expenses", "credit_notes", "credit_refunds"):
        assert books[section] == [], section
    codes = [zoho.answers[r.number][1] for r in zoho.requests if r.method == "DELETE"]
    # Each first delete answers 0; each second 1002 (a credit refund asks two paths).
    assert codes.count(0) == 5 and codes.count(1002) == 6, codes


@pytest.mark.vendor_fact("zoho.delete.invoice_with_payments_refused")
@pytest.mark.parametrize("status", [400, 200])
def test_an_invoice_with_a_payment_or_credit_is_refused_until_they_are_deleted(
    build: Build,
    settings: AccountSettings,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    status: int,
) -> None:
    zoho.delete_rules(org.organization_id).refusal_status = status
    destination = build()
    ids, (invoice, payment, _note, _refund) = _deliver_all(destination, settings)
    with pytest.raises(DeletionRefused, match="payment or credits note applied cannot be deleted"):
        destination.delete(ids[invoice.key], invoice, _context(settings, ids))
    destination.delete(ids[payment.key], payment, _context(settings, ids))
    with zoho.lock:
        stored = zoho.organization(org.organization_id).invoices[ids[invoice.key]]
        assert stored.balance == stored.total and stored.status == "sent"
    destination.delete(ids[invoice.key], invoice, _context(settings, ids))
    assert zoho.books(org.organization_id)["invoices"] == []


@pytest.mark.vendor_fact("zoho.delete.creditnote_with_refunds")
@pytest.mark.parametrize("cascade", [False, True], ids=["refused", "allowed"])
def test_a_credit_note_with_a_refund_is_refused_or_takes_it_along(
    build: Build,
    settings: AccountSettings,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    cascade: bool,
) -> None:
    zoho.delete_rules(org.organization_id).creditnote_cascade = cascade
    destination = build()
    ids, (_invoice, _payment, note, refund) = _deliver_all(destination, settings)
    if cascade:
        destination.delete(ids[note.key], note, _context(settings, ids))
        books = zoho.books(org.organization_id)
        assert books["credit_notes"] == [] and books["credit_refunds"] == []
        destination.delete(ids[refund.key], refund, _context(settings, ids))  # gone: done
        return
    with pytest.raises(DeletionRefused, match="refunds or credits applied cannot be deleted"):
        destination.delete(ids[note.key], note, _context(settings, ids))
    destination.delete(ids[refund.key], refund, _context(settings, ids))  # the client's order
    destination.delete(ids[note.key], note, _context(settings, ids))
    assert zoho.books(org.organization_id)["credit_notes"] == []


@pytest.mark.vendor_fact("zoho.delete.bank_matched_refused")
@pytest.mark.parametrize("matched", [True, False])
def test_a_payment_matched_to_a_bank_line_is_refused(
    build: Build,
    settings: AccountSettings,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    matched: bool,
) -> None:
    destination = build()
    ids, (_invoice, payment, _note, _refund) = _deliver_all(destination, settings)
    if matched:
        zoho.delete_rules(org.organization_id).matched.add(ids[payment.key])
        with pytest.raises(DeletionRefused, match="already Matched or Categorized"):
            destination.delete(ids[payment.key], payment, _context(settings, ids))
        assert len(zoho.books(org.organization_id)["payments"]) == 1
    else:
        destination.delete(ids[payment.key], payment, _context(settings, ids))
        assert zoho.books(org.organization_id)["payments"] == []


@pytest.mark.vendor_fact("zoho.delete.locked_period")
@pytest.mark.parametrize("included", [True, False], ids=["lock-date-locked", "lock-date-open"])
def test_a_document_in_a_locked_period_is_refused(
    build: Build,
    settings: AccountSettings,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    included: bool,
) -> None:
    destination = build()
    fee = Expense("t:1:expense", DAY, "SGD", Decimal("3.10"), ("1",))
    remote = destination.deliver(fee, _context(settings, {}))
    rules = zoho.delete_rules(org.organization_id)
    rules.locked_until, rules.lock_date_included = DAY.isoformat(), included
    if included:
        with pytest.raises(DeletionRefused, match="locked"):
            destination.delete(remote, fee, _context(settings, {}))
        assert len(zoho.books(org.organization_id)["expenses"]) == 1
    else:
        destination.delete(remote, fee, _context(settings, {}))
        assert zoho.books(org.organization_id)["expenses"] == []
