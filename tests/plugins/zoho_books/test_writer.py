"""The writer against the stand-in: each document kind, both refund paths, currencies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext
from core.documents import Document
from core.errors import DeliveryUncertain, DocumentRejected, TransientError
from core.store.repository import CallCounter
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import Build


def deliver_all(
    destination: ZohoBooksDestination,
    documents: list[Document],
    settings: AccountSettings,
    remote_ids: dict[str, str] | None = None,
) -> dict[str, str]:
    remote_ids = {} if remote_ids is None else remote_ids
    for document in documents:
        # as the host does: the remote ids of what the document depends on, nothing more
        context = DeliveryContext(
            settings, {k: remote_ids[k] for k in document.depends_on if k in remote_ids}
        )
        remote_ids[document.key] = destination.deliver(document, context)
    return remote_ids


def test_a_paid_sale_with_fee_and_refund_lands_in_the_books_exactly(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("1", "120.50", fee="3.25", refund="20.50")
    ids = deliver_all(build(), list(docs.values()), settings)
    books = zoho.books(org.organization_id)

    [invoice] = books["invoices"]
    assert invoice["reference_number"] == docs["invoice"].key
    assert invoice["id"] == ids[docs["invoice"].key]
    assert (invoice["amount"], invoice["balance"], invoice["status"]) == (
        Decimal("120.50"),
        Decimal("0"),
        "paid",
    )
    assert invoice["accounts"] == [org.sales_account] and invoice["items"] == [org.item]
    assert invoice["emailed"] is False  # never ?send=true

    [payment] = books["payments"]
    assert payment["account_id"] == org.bank_account
    assert payment["invoices"] == [(docs["invoice"].key, Decimal("120.50"))]

    [expense] = books["expenses"]
    assert (expense["account_id"], expense["paid_through_account_id"]) == (
        org.fee_account,
        org.bank_account,
    )
    assert expense["amount"] == Decimal("3.25")

    [note] = books["credit_notes"]
    assert note["accounts"] == [org.refund_account]
    assert note["invoice"] == docs["invoice"].key  # associated with the original invoice
    assert (note["status"], note["balance"]) == ("closed", Decimal("0"))

    # The invoice was paid, so the money goes back from the clearing account as a refund.
    [refund] = books["credit_refunds"]
    assert refund["id"] == ids[docs["credit_refund"].key]
    assert (refund["from_account_id"], refund["amount"]) == (org.bank_account, Decimal("20.50"))
    assert books["credits_applied"] == []

    # Clearing account: + charge - fee - refund
    assert books["bank_balances"][org.bank_account] == {"SGD": Decimal("96.75")}


def test_a_refund_of_an_unpaid_invoice_is_applied_as_credit(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("2", "50.00", refund="50.00", paid=False)
    documents = [docs["invoice"], docs["credit_note"], docs["credit_refund"]]
    ids = deliver_all(build(), documents, settings)
    books = zoho.books(org.organization_id)
    [applied] = books["credits_applied"]
    assert applied["id"] == ids[docs["credit_refund"].key]
    assert (applied["invoice"], applied["amount"]) == (docs["invoice"].key, Decimal("50.00"))
    assert books["credit_refunds"] == []
    [invoice] = books["invoices"]
    assert (invoice["status"], invoice["balance"]) == ("paid", Decimal("0"))
    assert books["bank_balances"] == {}


def test_a_refund_larger_than_the_open_balance_is_applied_then_refunded(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("3", "100.00", refund="60.00", paid=False)
    destination = build()
    ids = deliver_all(destination, [docs["invoice"]], settings)
    # a partial payment leaves a balance of 30.00
    partial = docs["payment"].__class__(
        key="test:charge:3:payment-part",
        date=docs["payment"].date,
        currency="SGD",
        amount=Decimal("70.00"),
        record_ids=("3",),
        invoice_key=docs["invoice"].key,
    )
    deliver_all(destination, [partial, docs["credit_note"], docs["credit_refund"]], settings, ids)
    books = zoho.books(org.organization_id)
    [applied] = books["credits_applied"]
    [refund] = books["credit_refunds"]
    assert (applied["amount"], refund["amount"]) == (Decimal("30.00"), Decimal("30.00"))
    assert books["invoices"][0]["status"] == "paid"
    assert books["credit_notes"][0]["status"] == "closed"


def test_one_customer_per_currency_is_created_once_and_cached(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    deliver_all(build(), [sale("1")["invoice"], sale("2")["invoice"]], settings)
    deliver_all(build(), [sale("3", currency="USD", amount="10.00")["invoice"]], settings)
    deliver_all(build(), [sale("4")["invoice"]], settings)
    assert zoho.books(org.organization_id)["contacts"] == [
        ("Ledger_Test_Source Customer (SGD)", "SGD"),
        ("Ledger_Test_Source Customer (USD)", "USD"),
    ]
    assert len(zoho.api_requests("POST", "/contacts")) == 2
    assert len(zoho.api_requests("GET", "/contacts")) == 2  # looked up by name before creating


def test_a_warm_run_spends_no_calls_on_metadata(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> None:
    deliver_all(build(), [sale("1")["invoice"]], settings)
    before = len(zoho.requests)
    calls = CallCounter("destination")
    deliver_all(build(calls), [sale("2")["invoice"]], settings)
    paths = [(r.method, r.path) for r in zoho.requests[before:]]
    assert paths == [
        ("POST", "/invoices"),
        ("POST", f"/invoices/{paths[1][1].split('/')[2]}/status/sent"),
    ]
    assert calls.total == 2


@pytest.mark.vendor_fact("zoho.fx.exchange_rate_required", "zoho.currencies.fields")
def test_a_foreign_document_carries_the_source_s_rate_else_the_organization_s(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> None:
    destination = build()
    deliver_all(destination, [sale("1", exchange_rate="1")["invoice"]], settings)  # base: no
    deliver_all(destination, [sale("2", currency="USD", amount="10.00")["invoice"]], settings)
    deliver_all(
        destination,
        [sale("3", currency="USD", amount="10.00", exchange_rate="1.3421")["invoice"]],
        settings,
    )
    bodies = [r.body for r in zoho.api_requests("POST", "/invoices")]
    assert ["exchange_rate" in body for body in bodies] == [False, True, True]
    assert bodies[1]["exchange_rate"] == Decimal("1.35")  # USD's rate in Zoho Books
    assert bodies[2]["exchange_rate"] == Decimal("1.3421")  # HitPay's


@pytest.mark.vendor_fact("zoho.fx.exchange_rate_required")
def test_without_a_rate_a_foreign_document_is_held_with_the_reason(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> None:
    destination = build(exchange_rates="source")
    with pytest.raises(DocumentRejected, match="no exchange rate for USD") as caught:
        deliver_all(destination, [sale("2", currency="USD", amount="10.00")["invoice"]], settings)
    assert "--exchange-rates zoho" in caught.value.hint
    assert zoho.api_requests("POST", "/invoices") == []  # nothing was sent


@pytest.mark.vendor_fact("zoho.fx.exchange_rate_required")
def test_the_stand_in_refuses_a_foreign_invoice_without_a_rate(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization
) -> None:
    client = build().client
    usd = org.currencies["USD"]
    customer = client.post(
        "/contacts", {"contact_name": "US buyer", "contact_type": "customer", "currency_id": usd}
    )["contact"]["contact_id"]
    body = {
        "customer_id": customer,
        "currency_id": usd,
        "date": "2026-01-14",
        "line_items": [{"item_id": org.item, "rate": 10, "quantity": 1}],
    }
    with pytest.raises(DocumentRejected, match="exchange_rate is required for a USD document"):
        client.post("/invoices", body)
    zoho.organization(org.organization_id).foreign_rate_required = False  # the other reading
    assert client.post("/invoices", body)["invoice"]["exchange_rate"] == Decimal("1.35")


def test_a_currency_the_organization_lacks_rejects_that_document_only(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    destination = build()
    with pytest.raises(DocumentRejected, match="MYR is not enabled") as caught:
        deliver_all(destination, [sale("1", currency="MYR", amount="10.00")["invoice"]], settings)
    assert "Settings > Currencies" in caught.value.hint
    deliver_all(destination, [sale("2")["invoice"]], settings)
    assert [i["currency"] for i in zoho.books(org.organization_id)["invoices"]] == ["SGD"]


@pytest.mark.parametrize(
    ("currency", "amount", "fee"),
    [("JPY", "1200", "35"), ("KWD", "12.345", "0.125"), ("EUR", "0.01", "0.01")],
)
def test_amounts_travel_exactly_at_the_currency_precision(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    currency: str,
    amount: str,
    fee: str,
) -> None:
    docs: dict[str, Any] = sale("1", amount, currency, fee=fee, refund=fee)
    deliver_all(build(), list(docs.values()), settings)
    books = zoho.books(org.organization_id)
    assert books["invoices"][0]["amount"] == Decimal(amount)
    assert books["bank_balances"][org.bank_account] == {
        currency: Decimal(amount) - Decimal(fee) - Decimal(fee)
    }
    raw = next(r for r in zoho.requests if r.path == "/customerpayments")
    assert str(raw.body["amount"]) == amount  # the JSON number itself, digit for digit


def test_with_a_unique_custom_field_creates_go_through_zohos_upsert(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    docs: dict[str, Any] = sale("1")
    deliver_all(build(unique_field="cf_sync_key"), list(docs.values()), settings)
    puts = [r for r in zoho.requests if r.method == "PUT"]
    # A credit note is POSTed: only the POST documents ?invoice_id= (its tie to the invoice).
    assert [r.path for r in puts] == ["/invoices", "/customerpayments", "/expenses"]
    for request, name in zip(puts, ("invoice", "payment", "expense"), strict=True):
        assert request.headers["X-Unique-Identifier-Key"] == "cf_sync_key"
        assert request.headers["X-Unique-Identifier-Value"] == docs[name].key
        assert request.headers["X-Upsert"] == "true"
    assert not [r for r in zoho.requests if r.method == "POST" and r.path == "/invoices"]
    books = zoho.books(org.organization_id)
    assert [len(books[s]) for s in ("invoices", "payments", "expenses", "credit_notes")] == [1] * 4


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("invoice", "^/invoices$"),
        ("payment", "^/customerpayments$"),
        ("expense", "^/expenses$"),
    ],
)
def test_an_upsert_sent_twice_still_makes_one_record(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    name: str,
    path: str,
) -> None:
    """Zoho's upsert makes a create idempotent on its side: even a blind re-send is safe."""
    docs: dict[str, Any] = sale("1")
    order = list(docs)
    remote: dict[str, str] = {}
    destination = build(unique_field="cf_sync_key")
    deliver_all(destination, [docs[n] for n in order[: order.index(name)]], settings, remote)
    zoho.faults.drop_after_commit(method="PUT", path=path)
    with pytest.raises(DeliveryUncertain):
        deliver_all(destination, [docs[name]], settings, remote)
    deliver_all(build(unique_field="cf_sync_key"), [docs[name]], settings, remote)
    section = {"invoice": "invoices", "payment": "payments", "expense": "expenses"}[name]
    [row] = zoho.books(org.organization_id)[section]
    assert row["id"] == remote[docs[name].key]


def test_a_document_whose_dependency_is_not_bound_waits_for_the_next_sync(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> None:
    with pytest.raises(TransientError, match="has not been delivered yet") as caught:
        build().deliver(sale("1")["payment"], DeliveryContext(settings, {}))
    assert not caught.value.sent
    assert zoho.api_requests("POST") == []


def test_disconnecting_revokes_the_refresh_token(build: Build, zoho: ZohoBooksStandIn) -> None:
    destination = build()
    destination.revoke()
    assert all(token.revoked for token in zoho.oauth.refresh_tokens.values())
    assert not destination.health().ok
