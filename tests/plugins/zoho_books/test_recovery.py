"""Exactly once: a create committed by Zoho whose answer was lost is found by reference and
bound, never sent again; a retry leaves exactly one record of every kind."""

from __future__ import annotations

from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext
from core.documents import Document
from core.errors import DeliveryUncertain
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import SHORT_TIMEOUT, Build

SECTIONS = ("invoices", "payments", "expenses", "credit_notes", "credit_refunds")


def context(
    settings: AccountSettings, remote_ids: dict[str, str], document: Document | None = None
) -> DeliveryContext:
    """As the host builds it: the remote ids of the document's dependencies only."""
    keys = document.depends_on if document is not None else ()
    return DeliveryContext(settings, {k: remote_ids[k] for k in keys if k in remote_ids})


def recover(
    build: Build,
    document: Document,
    settings: AccountSettings,
    remote_ids: dict[str, str],
    **config: Any,
) -> str:
    """What the host does: the delivery's outcome is unknown, so after a restart it asks
    find_existing first and sends again only when nothing is found."""
    with pytest.raises(DeliveryUncertain):
        build(**config).deliver(document, context(settings, remote_ids, document))
    restarted = build()
    found = restarted.find_existing(document, context(settings, remote_ids, document))
    return found or restarted.deliver(document, context(settings, remote_ids, document))


def references(zoho: ZohoBooksStandIn, org: SeededOrganization, section: str) -> list[str]:
    return [row["reference_number"] for row in zoho.books(org.organization_id)[section]]


LOSSES: dict[str, tuple[str, str]] = {
    "invoice": ("POST", r"^/invoices$"),
    "payment": ("POST", r"^/customerpayments$"),
    "expense": ("POST", r"^/expenses$"),
    "credit_note": ("POST", r"^/creditnotes$"),
    "credit_refund": ("POST", r"^/creditnotes/\d+/refunds$"),
}


@pytest.mark.parametrize("kind", list(LOSSES))
@pytest.mark.parametrize("fault", ["drop_after_commit", "fail", "timeout"])
def test_a_lost_create_of_each_kind_leaves_exactly_one_record(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    kind: str,
    fault: str,
) -> None:
    docs: dict[str, Any] = sale("1")
    order = list(docs)
    remote_ids: dict[str, str] = {}
    for name in order[: order.index(kind)]:
        remote_ids[docs[name].key] = build().deliver(
            docs[name], context(settings, remote_ids, docs[name])
        )
    method, path = LOSSES[kind]
    getattr(zoho.faults, fault)(method=method, path=path)

    short = {"timeout_seconds": SHORT_TIMEOUT} if fault == "timeout" else {}
    remote_ids[docs[kind].key] = recover(build, docs[kind], settings, remote_ids, **short)
    for name in order[order.index(kind) + 1 :]:
        remote_ids[docs[name].key] = build().deliver(
            docs[name], context(settings, remote_ids, docs[name])
        )

    assert zoho.faults.pending() == []  # the fault did fire
    books = zoho.books(org.organization_id)
    for section, name in zip(SECTIONS, order, strict=True):
        assert [row["reference_number"] for row in books[section]] == [docs[name].key]
        assert books[section][0]["id"] == remote_ids[docs[name].key]
    assert books["invoices"][0]["status"] == "paid"
    assert books["bank_balances"][org.bank_account] == {
        "SGD": docs["invoice"].amount - docs["expense"].amount - docs["credit_refund"].amount
    }


@pytest.mark.vendor_fact("zoho.invoice.mark_sent")
@pytest.mark.parametrize("fault", ["drop_after_commit", "fail"])
def test_an_invoice_is_delivered_only_once_marked_sent(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    fault: str,
) -> None:
    invoice = sale("1")["invoice"]
    getattr(zoho.faults, fault)(method="POST", path=r"^/invoices/\d+/status/sent$")
    with pytest.raises(DeliveryUncertain):
        build().deliver(invoice, context(settings, {}))
    found = build().find_existing(invoice, context(settings, {}))
    [row] = zoho.books(org.organization_id)["invoices"]
    assert (found, row["status"]) == (row["id"], "sent")


def test_a_retried_delivery_finishes_the_draft_invoice_it_created(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    """Even when the host re-delivers without looking up first, no second invoice appears."""
    invoice = sale("1")["invoice"]
    zoho.faults.fail(method="POST", path=r"^/invoices/\d+/status/sent$")
    with pytest.raises(DeliveryUncertain):
        build().deliver(invoice, context(settings, {}))
    remote = build().deliver(invoice, context(settings, {}))
    [row] = zoho.books(org.organization_id)["invoices"]
    assert (remote, row["status"]) == (row["id"], "sent")
    assert len(zoho.api_requests("POST", "/invoices")) == 1


def test_a_lost_contact_create_makes_no_second_customer(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    invoice = sale("1")["invoice"]
    zoho.faults.drop_after_commit(method="POST", path=r"^/contacts$")
    recover(build, invoice, settings, {})
    contacts = zoho.books(org.organization_id)["contacts"]
    assert contacts == [("Ledger_Test_Source Customer (SGD)", "SGD")]
    assert references(zoho, org, "invoices") == [invoice.key]


def test_a_lost_applied_credit_is_found_on_the_credit_note(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("1", "80.00", refund="80.00", paid=False)
    remote_ids: dict[str, str] = {}
    for name in ("invoice", "credit_note"):
        remote_ids[docs[name].key] = build().deliver(
            docs[name], context(settings, remote_ids, docs[name])
        )
    zoho.faults.drop_after_commit(method="POST", path=r"^/invoices/\d+/credits$")
    remote = recover(build, docs["credit_refund"], settings, remote_ids)
    books = zoho.books(org.organization_id)
    [applied] = books["credits_applied"]
    assert applied["id"] == remote
    assert books["credit_refunds"] == []


def test_a_refund_interrupted_between_credit_and_refund_finishes_the_rest(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("1", "100.00", refund="60.00", paid=False)
    remote_ids: dict[str, str] = {}
    destination = build()
    remote_ids[docs["invoice"].key] = destination.deliver(
        docs["invoice"], context(settings, {}, docs["invoice"])
    )
    part = docs["payment"].__class__(
        key="test:charge:1:payment-part",
        date=docs["payment"].date,
        currency="SGD",
        amount=docs["invoice"].amount - 30,
        record_ids=("1",),
        invoice_key=docs["invoice"].key,
    )
    destination.deliver(part, context(settings, remote_ids, part))
    remote_ids[docs["credit_note"].key] = destination.deliver(
        docs["credit_note"], context(settings, remote_ids, docs["credit_note"])
    )
    zoho.faults.timeout(method="POST", path=r"^/creditnotes/\d+/refunds$")
    recover(build, docs["credit_refund"], settings, remote_ids, timeout_seconds=SHORT_TIMEOUT)
    books = zoho.books(org.organization_id)
    assert [a["amount"] for a in books["credits_applied"]] == [30]
    assert [r["amount"] for r in books["credit_refunds"]] == [30]
    assert books["credit_notes"][0]["status"] == "closed"


def test_reference_numbers_are_matched_exactly(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    """Zoho's reference filter is a search: ':1' also finds ':10'. Only the exact key binds."""
    ten = sale("10")["invoice"]
    remote = build().deliver(ten, context(settings, {}))
    one = sale("1")["invoice"]
    assert build().find_existing(one, context(settings, {})) is None
    assert build().find_existing(ten, context(settings, {})) == remote
