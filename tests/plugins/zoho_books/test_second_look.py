"""A document whose earlier attempt may have reached Zoho is found again two independent ways:
the reference list, and through its parent (an invoice's payments, a credit note's refunds and
applied credits). A refusal that may mean "already done" triggers the second look before it
counts as final."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import requests

from core.contracts import AccountSettings, DeliveryContext
from core.errors import DeliveryUncertain, DocumentRejected
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import Build


def context(settings: AccountSettings, remote: dict[str, str], document: Any) -> DeliveryContext:
    return DeliveryContext(settings, {k: remote[k] for k in document.depends_on if k in remote})


def zoho_get(zoho: ZohoBooksStandIn, org: SeededOrganization, path: str) -> Any:
    answer = requests.get(
        f"{zoho.api_url}/books/v3{path}",
        params={"organization_id": org.organization_id},
        headers={"Authorization": f"Zoho-oauthtoken {zoho.tokens()['access_token']}"},
        timeout=10,
    )
    return answer.json()


def deliver(build: Build, settings: AccountSettings, remote: dict[str, str], doc: Any) -> str:
    remote[doc.key] = build().deliver(doc, context(settings, remote, doc))
    return remote[doc.key]


@pytest.mark.vendor_fact("zoho.error.over_balance", "zoho.list_key.invoice_payments")
def test_a_payment_refused_over_the_balance_is_found_on_its_invoice(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    """The payment went through, its answer was lost, and it is sent again without a look-up
    (as when the look-up could not see it): Zoho refuses it as more than the balance due; the
    invoice's payments show it, so it is bound, not failed for good."""
    docs: Any = sale("1")
    remote: dict[str, str] = {}
    deliver(build, settings, remote, docs["invoice"])
    zoho.faults.drop_after_commit(method="POST", path=r"^/customerpayments$")
    with pytest.raises(DeliveryUncertain):
        deliver(build, settings, remote, docs["payment"])
    found = deliver(build, settings, remote, docs["payment"])
    [payment] = zoho.books(org.organization_id)["payments"]
    assert payment["id"] == found
    refusals = [code for code in zoho.codes() if code not in (0, None)]
    assert len(refusals) == 1  # Zoho did refuse the second POST


@pytest.mark.vendor_fact("zoho.list_key.invoice_payments")
def test_the_invoice_s_payments_find_a_payment_without_the_reference_list(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: Any = sale("1")
    remote: dict[str, str] = {}
    deliver(build, settings, remote, docs["invoice"])
    paid = deliver(build, settings, remote, docs["payment"])
    before = len(zoho.requests)
    writer = build().writer
    ctx = context(settings, remote, docs["payment"])
    assert writer.find_payment_on_invoice(docs["payment"], ctx) == paid
    assert [r.path for r in zoho.requests[before:]] == [
        f"/invoices/{remote[docs['invoice'].key]}/payments"
    ]
    assert writer.find_payment_on_invoice(sale("2")["payment"], ctx) is None


def test_a_genuine_refusal_stays_a_refusal_after_the_second_look(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    """Someone paid the invoice in Zoho by hand: our payment is refused, the invoice's payments
    do not hold its key, so it is rejected (quarantined with Zoho's reason), not bound to the
    other payment."""
    docs: Any = sale("1")
    remote: dict[str, str] = {}
    deliver(build, settings, remote, docs["invoice"])
    by_hand = dataclasses.replace(docs["payment"], key="typed-in-zoho")
    deliver(build, settings, remote, by_hand)
    with pytest.raises(DocumentRejected, match="more than the balance due"):
        deliver(build, settings, remote, docs["payment"])


@pytest.mark.vendor_fact(
    "zoho.credit.apply_via_invoice",
    "zoho.list_key.invoices_credited",
    "zoho.list_key.invoice_credits_applied",
)
def test_credit_is_applied_through_the_invoice_and_its_id_read_from_the_answer(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: Any = sale("1", "80.00", refund="30.00", paid=False)
    remote: dict[str, str] = {}
    for name in ("invoice", "credit_note", "credit_refund"):
        deliver(build, settings, remote, docs[name])
    [apply] = [r for r in zoho.api_requests("POST") if r.path.endswith("/credits")]
    assert apply.body == {
        "apply_creditnotes": [
            {"creditnote_id": remote[docs["credit_note"].key], "amount_applied": 30}
        ]
    }
    [applied] = zoho.books(org.organization_id)["credits_applied"]
    assert applied["id"] == remote[docs["credit_refund"].key]
    assert not [
        r
        for r in zoho.api_requests("POST")
        if r.path.startswith("/creditnotes/") and r.path.endswith("/invoices")
    ]
    # the invoice lists it too (GET /invoices/{id}/creditsapplied)
    credits = zoho_get(zoho, org, f"/invoices/{remote[docs['invoice'].key]}/creditsapplied")
    assert [(c["creditnotes_invoice_id"], c["amount_applied"]) for c in credits["credits"]] == [
        (applied["id"], 30)
    ]
    # found again through the credit note
    found = build().find_existing(
        docs["credit_refund"], context(settings, remote, docs["credit_refund"])
    )
    assert found == applied["id"]
