"""Zoho Books facts held on both sides (docs/vendor-facts.md): how refusals come back (codes,
HTTP statuses, the business rules behind them) and what the rows and objects the plugin reads
carry. Each test asks the stand-in over HTTP, through the plugin's own client or writer, so
the stand-in answers as the evidence says and the client reads it as the plugin needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from core.contracts import AccountSettings, DeliveryContext
from core.errors import DeliveryUncertain, DocumentRejected
from plugins.zoho_books.client import BooksClient, BooksRejected
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import Build


@pytest.fixture
def destination(build: Build) -> ZohoBooksDestination:
    return build()


@pytest.fixture
def client(destination: ZohoBooksDestination) -> BooksClient:
    return destination.client


@pytest.fixture
def delivered(destination: ZohoBooksDestination, settings: AccountSettings) -> dict[str, str]:
    """Remote ids of one whole sale: invoice, payment, fee, credit note and its refund."""
    remote: dict[str, str] = {}
    for name, document in sale("1").items():
        remote[name] = destination.deliver(document, DeliveryContext(settings, remote_of(remote)))
        remote[document.key] = remote[name]
    return remote


def remote_of(remote: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in remote.items() if ":" in key}


def refused(call: Any, *args: Any) -> BooksRejected:
    with pytest.raises(BooksRejected) as caught:
        call(*args)
    return caught.value


def draft_invoice(client: BooksClient, invoice: dict[str, Any], org: SeededOrganization) -> str:
    body = {
        "customer_id": invoice["customer_id"],
        "date": "2026-01-14",
        "line_items": [{"item_id": org.item, "account_id": org.sales_account, "rate": 10}],
    }
    return str(client.post("/invoices", body)["invoice"]["invoice_id"])


# ----------------------------------------------------------------------------- refusals


@pytest.mark.vendor_fact("zoho.error.1002_not_found", "zoho.envelope.error_http_status_varies")
@pytest.mark.parametrize("refusal_status", [400, 200])
def test_an_unknown_id_is_1002_does_not_exist_whatever_the_http_status(
    zoho: ZohoBooksStandIn, client: BooksClient, refusal_status: int
) -> None:
    zoho.refusal_status = refusal_status  # a business refusal answered with 200, same body
    try:
        gone = refused(client.get, "/invoices/460000000999")
        assert (gone.code, gone.status) == (1002, 404)
        assert "Invoice does not exist." in str(gone)
        bad = refused(client.post, "/invoices", {"customer_id": "nobody", "line_items": []})
        assert bad.status == refusal_status and bad.code != 0  # decided by the code
    finally:
        zoho.refusal_status = 400


@pytest.mark.vendor_fact("zoho.error.5_invalid_url")
def test_an_unknown_path_is_invalid_url_never_a_missing_document(client: BooksClient) -> None:
    wrong = refused(client.get, "/invoicez/1")
    assert (wrong.code, wrong.status) == (5, 404)
    assert "Invalid URL Passed" in str(wrong)


@pytest.mark.vendor_fact("zoho.error.2_invalid_value")
def test_a_bad_value_is_code_2_and_a_bad_body_code_4_each_with_zohos_words(
    client: BooksClient, delivered: dict[str, str], zoho: ZohoBooksStandIn
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    line = {"item_id": "460000000999", "rate": 5}
    bad = refused(
        client.post, "/invoices", {"customer_id": invoice["customer_id"], "line_items": [line]}
    )
    assert bad.code == 2 and "Invalid value passed for item_id" in str(bad)
    not_json = refused(client.post, "/invoices", ["not", "an", "object"])
    assert not_json.code == 4


@pytest.mark.vendor_fact("zoho.error.14_invalid_token")
def test_a_call_without_the_oauth_header_is_401_code_14(
    zoho: ZohoBooksStandIn, org: SeededOrganization
) -> None:
    answer = requests.get(
        f"{zoho.api_url}/books/v3/items",
        params={"organization_id": org.organization_id},
        timeout=5,
    )
    assert (answer.status_code, answer.json()["code"]) == (401, 14)


@pytest.mark.vendor_fact("zoho.error.1000_internal")
def test_an_internal_error_is_retried_on_a_read_and_uncertain_on_a_write(
    zoho: ZohoBooksStandIn, client: BooksClient
) -> None:
    zoho.faults.fail(method="GET", path="/items")
    assert client.get("/items")["items"]  # retried, then answered
    zoho.faults.fail(method="POST", path="/contacts")
    with pytest.raises(DeliveryUncertain, match="HTTP 500"):
        client.post("/contacts", {"contact_name": "Walk-in"})


@pytest.mark.vendor_fact("zoho.error.payment_on_draft")
def test_a_payment_on_a_draft_invoice_is_refused_so_the_writer_marks_it_sent_first(
    client: BooksClient,
    delivered: dict[str, str],
    org: SeededOrganization,
    zoho: ZohoBooksStandIn,
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    assert invoice["status"] == "paid"  # the writer's invoice was sent, then paid
    draft = draft_invoice(client, invoice, org)
    payment = {
        "customer_id": invoice["customer_id"],
        "amount": 10,
        "date": "2026-01-14",
        "account_id": org.bank_account,
        "invoices": [{"invoice_id": draft, "amount_applied": 10}],
    }
    assert refused(client.post, "/customerpayments", payment).status == 400


@pytest.mark.vendor_fact("zoho.credit.rules")
def test_credit_goes_neither_to_a_draft_nor_beyond_a_balance(
    client: BooksClient, delivered: dict[str, str], org: SeededOrganization
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    note = client.post(
        "/creditnotes",
        {
            "customer_id": invoice["customer_id"],
            "date": "2026-01-14",
            "line_items": [{"item_id": org.item, "account_id": org.refund_account, "rate": 5}],
        },
    )["creditnote"]
    draft = draft_invoice(client, invoice, org)
    apply = {"apply_creditnotes": [{"creditnote_id": note["creditnote_id"], "amount_applied": 5}]}
    refused(client.post, f"/invoices/{draft}/credits", apply)
    client.post(f"/invoices/{draft}/status/sent")
    too_much = {
        "apply_creditnotes": [{"creditnote_id": note["creditnote_id"], "amount_applied": 6}]
    }
    refused(client.post, f"/invoices/{draft}/credits", too_much)  # over the note's 5.00
    client.post(f"/invoices/{draft}/credits", apply)
    assert Decimal(str(client.get(f"/invoices/{draft}")["invoice"]["balance"])) == 5


@pytest.mark.vendor_fact("zoho.credit.apply_via_creditnote")
def test_credit_applied_through_the_credit_note_answers_apply_to_invoices(
    client: BooksClient, delivered: dict[str, str], org: SeededOrganization
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    draft = draft_invoice(client, invoice, org)
    client.post(f"/invoices/{draft}/status/sent")
    note = client.post(
        "/creditnotes",
        {
            "customer_id": invoice["customer_id"],
            "date": "2026-01-14",
            "line_items": [{"item_id": org.item, "account_id": org.refund_account, "rate": 4}],
        },
    )["creditnote"]
    body = {"invoices": [{"invoice_id": draft, "amount_applied": 4}]}
    answer = client.post(f"/creditnotes/{note['creditnote_id']}/invoices", body)
    [applied] = answer["apply_to_invoices"]["invoices"]
    assert applied["invoice_id"] == draft and Decimal(str(applied["amount_applied"])) == 4


@pytest.mark.vendor_fact("zoho.contact.currency_binds_documents")
def test_a_document_in_another_currency_than_its_customer_is_refused(
    client: BooksClient, delivered: dict[str, str], org: SeededOrganization
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    usd = org.currencies["USD"]
    body = {
        "customer_id": invoice["customer_id"],  # the SGD customer
        "currency_id": usd,
        "exchange_rate": Decimal("1.35"),
        "line_items": [{"item_id": org.item, "account_id": org.sales_account, "rate": 10}],
    }
    mismatch = refused(client.post, "/invoices", body)
    assert "currency" in str(mismatch).lower()


# ----------------------------------------------------------------------------- rows


@pytest.mark.vendor_fact("zoho.invoice.fields_read_back", "zoho.object_key.payment")
def test_an_invoice_and_a_payment_read_back_with_the_fields_the_writer_checks(
    client: BooksClient, delivered: dict[str, str]
) -> None:
    invoice = client.get(f"/invoices/{delivered['invoice']}")["invoice"]
    for field in (
        "invoice_id",
        "invoice_number",
        "status",
        "total",
        "balance",
        "currency_id",
        "currency_code",
        "exchange_rate",
        "reference_number",
        "date",
        "customer_id",
    ):
        assert field in invoice, field
    payment = client.get(f"/customerpayments/{delivered['payment']}")
    assert "payment" in payment and "customerpayment" not in payment
    assert payment["payment"]["payment_id"] == delivered["payment"]


@pytest.mark.vendor_fact(
    "zoho.filter.reference_number_in_rows",
    "zoho.creditnote.refund_row_fields",
    "zoho.creditnote.status_values",
)
def test_every_list_row_carries_its_reference_and_refund_rows_their_amounts(
    client: BooksClient,
    destination: ZohoBooksDestination,
    delivered: dict[str, str],
    settings: AccountSettings,
) -> None:
    documents = sale("1")
    for path, keys, name in (
        ("/invoices", ("invoices",), "invoice"),
        ("/customerpayments", ("customerpayments", "customer_payments"), "payment"),
        ("/expenses", ("expenses",), "expense"),
        ("/creditnotes", ("creditnotes",), "credit_note"),
    ):
        rows = client.list_all(path, keys)
        assert {row["reference_number"] for row in rows} == {documents[name].key}, path
    note_id = delivered["credit_note"]
    [refund] = client.list_all(f"/creditnotes/{note_id}/refunds", "creditnote_refunds")
    for field in (
        "creditnote_refund_id",
        "creditnote_id",
        "date",
        "refund_mode",
        "reference_number",
        "amount_bcy",
        "amount_fcy",
    ):
        assert field in refund, field
    assert Decimal(str(refund["amount_fcy"])) == documents["credit_refund"].amount
    note = client.get(f"/creditnotes/{note_id}")["creditnote"]
    assert note["status"] == "closed"  # refunded whole: no credit left, nothing more from it
    again = sale("1")["credit_refund"]
    context = DeliveryContext(settings, remote_of(delivered))
    assert destination.find_existing(again, context) == delivered["credit_refund"]


@pytest.mark.vendor_fact(
    "zoho.list_key.bankaccounts_banktransactions", "zoho.banktransaction.list_filters"
)
def test_bank_transactions_list_with_their_filters_and_fields(
    client: BooksClient, org: SeededOrganization
) -> None:
    body = {
        "transaction_type": "transfer_fund",
        "from_account_id": org.bank_account,
        "to_account_id": org.other_bank_account,
        "amount": Decimal("25.00"),
        "date": "2026-01-14",
        "reference_number": "hitpay:payout:f1",
    }
    made = client.post("/banktransactions", body)["banktransaction"]
    rows = client.list_all(
        "/banktransactions",
        "banktransactions",
        {
            "account_id": org.bank_account,
            "reference_number": "hitpay:payout:f1",
            "date_start": "2026-01-14",
            "date_end": "2026-01-14",
        },
    )
    [row] = [r for r in rows if r.get("reference_number") == "hitpay:payout:f1"]
    assert row["transaction_id"] == made["transaction_id"]
    for field in ("transaction_type", "amount", "account_id", "debit_or_credit"):
        assert field in row, field
    assert "bankaccount" in client.get(f"/bankaccounts/{org.bank_account}")


def test_the_writer_never_matches_a_row_without_the_exact_reference(
    destination: ZohoBooksDestination, delivered: dict[str, str], settings: AccountSettings
) -> None:
    other = sale("10")["invoice"]  # "test:charge:10:invoice" contains no delivered key
    assert destination.find_existing(other, DeliveryContext(settings, {})) is None
    with pytest.raises(DocumentRejected):
        destination.client.get("/invoices/0")


@pytest.mark.vendor_fact("zoho.http.create_status")
@pytest.mark.parametrize("status", [201, 200])
def test_a_create_answered_200_or_201_is_delivered_alike(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, settings: AccountSettings,
    status: int,
) -> None:  # fmt: skip
    zoho.create_status = status
    try:
        before = len(zoho.requests)
        remote: dict[str, str] = {}
        for document in sale("1").values():
            remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
        creates = [
            zoho.answers[r.number]
            for r in zoho.requests[before:]
            if r.method == "POST"
            and r.path in ("/invoices", "/customerpayments", "/expenses", "/creditnotes")
        ]
        assert creates == [(status, 0)] * 4 and len(remote) == 5
    finally:
        zoho.create_status = 201


@pytest.mark.vendor_fact("zoho.ids.strings")
def test_ids_answered_as_json_numbers_are_read_as_the_same_ids(
    zoho: ZohoBooksStandIn, build: Build, settings: AccountSettings, org: SeededOrganization
) -> None:
    zoho.ids_as_numbers = True
    try:
        destination = build()
        destination.validate(settings)  # accounts, items, taxes and currencies by id
        answer = destination.client.get(f"/bankaccounts/{org.bank_account}")
        assert isinstance(answer["bankaccount"]["account_id"], int)
        remote: dict[str, str] = {}
        documents = list(sale("7").values())
        for document in documents:
            remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
        assert all(isinstance(value, str) and value.isdigit() for value in remote.values())
        fresh = build()
        for document in documents:  # found again by key, the same id as a string
            context = DeliveryContext(settings, remote)
            assert fresh.find_existing(document, context) == remote[document.key], document.key
    finally:
        zoho.ids_as_numbers = False
