"""The stand-in enforces what Zoho Books enforces (so the plugin's tests can fail)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from plugins.zoho_books.client import BooksClient, BooksRejected
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.helpers import Build


@pytest.fixture
def client(build: Build) -> BooksClient:
    return build().client


@pytest.fixture
def customer(client: BooksClient) -> str:
    return str(client.post("/contacts", {"contact_name": "Walk-in"})["contact"]["contact_id"])


def invoice_body(org: SeededOrganization, customer: str, rate: str = "100.00") -> dict[str, Any]:
    return {
        "customer_id": customer,
        "date": "2026-01-14",
        "reference_number": "ref-1",
        "line_items": [
            {"item_id": org.item, "account_id": org.sales_account, "rate": Decimal(rate)}
        ],
    }


def new_invoice(client: BooksClient, org: SeededOrganization, customer: str, **kw: Any) -> str:
    body = {**invoice_body(org, customer), **kw}
    return str(client.post("/invoices", body)["invoice"]["invoice_id"])


def payment_body(org: SeededOrganization, customer: str, invoice: str, amount: str) -> Any:
    return {
        "customer_id": customer,
        "payment_mode": "others",
        "amount": Decimal(amount),
        "date": "2026-01-14",
        "account_id": org.bank_account,
        "invoices": [{"invoice_id": invoice, "amount_applied": Decimal(amount)}],
    }


def rejected(call: Any, code: int, message: str) -> None:
    with pytest.raises(BooksRejected) as caught:
        call()
    assert caught.value.code == code, caught.value
    assert message in str(caught.value)


def test_organization_id_is_required_and_must_be_reachable(
    zoho: ZohoBooksStandIn, build: Build
) -> None:
    token = build().tokens.current()
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    for params in ({}, {"organization_id": "1"}):
        answer = requests.get(f"{zoho.api_url}/books/v3/items", params=params, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (400, 6041)
    answer = requests.get(f"{zoho.api_url}/books/v3/organizations", headers=headers)
    assert answer.json()["code"] == 0  # the one call that needs no organization


def test_a_request_without_a_token_is_refused_with_code_14(zoho: ZohoBooksStandIn) -> None:
    answer = requests.get(f"{zoho.api_url}/books/v3/organizations", timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (401, 14)


def test_unknown_paths_and_methods(zoho: ZohoBooksStandIn, build: Build) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {build().tokens.current()}"}
    answer = requests.get(f"{zoho.api_url}/books/v3/nothing", headers=headers, timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (404, 5)
    answer = requests.delete(f"{zoho.api_url}/books/v3/invoices", headers=headers, timeout=5)
    assert answer.status_code == 405


@pytest.mark.parametrize(
    ("path", "drop", "field"),
    [
        ("/invoices", "customer_id", "customer_id"),
        ("/invoices", "line_items", "line_items"),
        ("/customerpayments", "account_id", "account_id"),
        ("/customerpayments", "invoices", "invoices"),
        ("/expenses", "paid_through_account_id", "paid_through_account_id"),
        ("/creditnotes", "date", "date"),
        ("/contacts", "contact_name", "contact_name"),
    ],
)
@pytest.mark.vendor_fact("zoho.invoice.create", "zoho.payment.create", "zoho.contact.create")
def test_required_fields(
    client: BooksClient,
    org: SeededOrganization,
    customer: str,
    path: str,
    drop: str,
    field: str,
) -> None:
    invoice = new_invoice(client, org, customer)
    client.post(f"/invoices/{invoice}/status/sent")
    bodies = {
        "/invoices": invoice_body(org, customer),
        "/customerpayments": payment_body(org, customer, invoice, "1.00"),
        "/expenses": {
            "account_id": org.fee_account,
            "paid_through_account_id": org.bank_account,
            "date": "2026-01-14",
            "amount": Decimal("1.00"),
        },
        "/creditnotes": {**invoice_body(org, customer)},
        "/contacts": {"contact_name": "Another"},
    }
    body = dict(bodies[path])
    del body[drop]
    rejected(lambda: client.post(path, body), 4, f"{field} is mandatory")


def test_account_types_are_enforced(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    body = invoice_body(org, customer)
    body["line_items"][0]["account_id"] = org.fee_account
    rejected(lambda: client.post("/invoices", body), 9101, "cannot be used as line item account")
    expense = {
        "account_id": org.sales_account,
        "paid_through_account_id": org.bank_account,
        "date": "2026-01-14",
        "amount": Decimal("1.00"),
    }
    rejected(lambda: client.post("/expenses", expense), 9101, "cannot be used as expense account")
    expense |= {"account_id": org.fee_account, "paid_through_account_id": org.refund_account}
    rejected(lambda: client.post("/expenses", expense), 9101, "paid through account")
    inactive = invoice_body(org, customer)
    inactive["line_items"][0]["account_id"] = org.inactive_accounts["income"]
    rejected(lambda: client.post("/invoices", inactive), 9101, "is inactive")


def test_an_invoice_takes_its_customers_currency(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    body = invoice_body(org, customer) | {"currency_id": org.currencies["USD"]}
    rejected(lambda: client.post("/invoices", body), 9102, "same as the customer's currency")
    rejected(lambda: client.post("/creditnotes", body), 9102, "same as the customer's currency")


@pytest.mark.vendor_fact("zoho.invoice.created_draft", "zoho.invoice.status_values")
def test_statuses_follow_draft_sent_paid(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    invoice = new_invoice(client, org, customer)

    def status() -> str:
        return str(client.get(f"/invoices/{invoice}")["invoice"]["status"])

    assert status() == "draft"
    rejected(
        lambda: client.post("/customerpayments", payment_body(org, customer, invoice, "10.00")),
        9103,
        "draft invoice",
    )
    client.post(f"/invoices/{invoice}/status/sent")
    assert status() == "sent"
    rejected(lambda: client.post(f"/invoices/{invoice}/status/sent"), 9107, "Only a draft")
    client.post("/customerpayments", payment_body(org, customer, invoice, "40.00"))
    assert status() == "partially_paid"
    rejected(
        lambda: client.post("/customerpayments", payment_body(org, customer, invoice, "60.01")),
        9104,
        "more than the balance due",
    )
    client.post("/customerpayments", payment_body(org, customer, invoice, "60.00"))
    assert status() == "paid"


def test_credit_rules_balances_and_open_closed(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    invoice = new_invoice(client, org, customer)
    rejected(
        lambda: client.post("/creditnotes", invoice_body(org, customer), {"invoice_id": invoice}),
        9103,
        "draft invoice",
    )
    client.post(f"/invoices/{invoice}/status/sent")
    note_body = invoice_body(org, customer, "30.00")
    note_body["line_items"][0]["account_id"] = org.refund_account
    note = client.post("/creditnotes", note_body, {"invoice_id": invoice})["creditnote"]
    assert (note["status"], note["balance"]) == ("open", 30)
    credit = f"/creditnotes/{note['creditnote_id']}"

    def apply(amount: str) -> Any:
        body = {"invoices": [{"invoice_id": invoice, "amount_applied": Decimal(amount)}]}
        return client.post(f"{credit}/invoices", body)

    rejected(lambda: apply("30.01"), 9104, "more than the credit note's balance")
    apply("10.00")
    refund = {"date": "2026-01-14", "from_account_id": org.bank_account, "refund_mode": "cash"}
    rejected(
        lambda: client.post(f"{credit}/refunds", refund | {"amount": Decimal("20.01")}),
        9104,
        "more than the credit note's balance",
    )
    client.post(f"{credit}/refunds", refund | {"amount": Decimal("20.00")})
    assert client.get(credit)["creditnote"]["status"] == "closed"
    rejected(
        lambda: client.post(f"{credit}/refunds", refund | {"amount": Decimal("1.00")}),
        9105,
        "closed credit note",
    )
    # a paid invoice takes no credit
    client.post("/customerpayments", payment_body(org, customer, invoice, "90.00"))
    second = client.post("/creditnotes", note_body, {"invoice_id": invoice})["creditnote"]
    body = {"invoices": [{"invoice_id": invoice, "amount_applied": Decimal("1.00")}]}
    rejected(
        lambda: client.post(f"/creditnotes/{second['creditnote_id']}/invoices", body),
        9103,
        "draft, void or closed invoices",
    )


def test_amounts_keep_the_currency_precision(client: BooksClient, org: SeededOrganization) -> None:
    yen = client.post(
        "/contacts", {"contact_name": "Yen buyer", "currency_id": org.currencies["JPY"]}
    )["contact"]["contact_id"]
    body = invoice_body(org, yen, "1.5") | {"currency_id": org.currencies["JPY"]}
    rejected(lambda: client.post("/invoices", body), 9106, "more than 0 decimal places")
    float_like = invoice_body(org, yen) | {"reference_number": "x" * 101}
    rejected(lambda: client.post("/invoices", float_like), 2, "at most 100 characters")


def test_reference_filter_and_page_context(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    for n in range(5):
        new_invoice(client, org, customer, reference_number=f"key:{n}:invoice")
    new_invoice(client, org, customer, reference_number="other")
    page = client.get("/invoices", {"reference_number": "key:", "per_page": 2, "page": 3})
    assert [row["reference_number"] for row in page["invoices"]] == ["key:4:invoice"]
    assert page["page_context"]["has_more_page"] is False
    first = client.get("/invoices", {"reference_number": "key:", "per_page": 2})
    assert first["page_context"] == {
        "page": 1,
        "per_page": 2,
        "has_more_page": True,
        "report_name": "invoices",
        "sort_column": "created_time",
        "sort_order": "A",
    }
    assert len(client.list_all("/invoices", "invoices", {"reference_number": "key:"})) == 5
    rejected(lambda: client.get("/invoices", {"per_page": 201}), 2, "at most 200")


def test_upsert_by_a_unique_custom_field(
    client: BooksClient, org: SeededOrganization, customer: str, zoho: ZohoBooksStandIn
) -> None:
    headers = {
        "X-Unique-Identifier-Key": "cf_sync_key",
        "X-Unique-Identifier-Value": "k1",
        "X-Upsert": "true",
    }
    body = invoice_body(org, customer) | {
        "custom_fields": [{"api_name": "cf_sync_key", "value": "k1"}]
    }
    first = client.put("/invoices", body, headers=headers)["invoice"]
    again = client.put("/invoices", body, headers=headers)["invoice"]
    assert first["invoice_id"] == again["invoice_id"]
    assert first["custom_fields"] == [{"api_name": "cf_sync_key", "value": "k1"}]
    assert len(zoho.books(org.organization_id)["invoices"]) == 1
    no_upsert = headers | {"X-Unique-Identifier-Value": "k2", "X-Upsert": "false"}
    rejected(
        lambda: client.put("/invoices", invoice_body(org, customer), headers=no_upsert),
        1002,
        "No record",
    )
    unknown = headers | {"X-Unique-Identifier-Key": "cf_other"}
    rejected(
        lambda: client.put("/invoices", invoice_body(org, customer), headers=unknown),
        9108,
        "refuses duplicate values",
    )


@pytest.mark.vendor_fact("zoho.invoice.created_draft")
def test_send_true_would_email_the_customer(
    client: BooksClient, org: SeededOrganization, customer: str, zoho: ZohoBooksStandIn
) -> None:
    body = invoice_body(org, customer)
    client.request("POST", "/invoices", params={"send": "true"}, body=body)
    [invoice] = zoho.books(org.organization_id)["invoices"]
    assert (invoice["status"], invoice["emailed"]) == ("sent", True)


def test_an_inactive_item_is_refused(
    client: BooksClient, org: SeededOrganization, customer: str
) -> None:
    body = invoice_body(org, customer)
    body["line_items"][0]["item_id"] = org.inactive_item
    rejected(lambda: client.post("/invoices", body), 9107, "inactive")


@pytest.mark.vendor_fact("zoho.upsert.field_written_on_create")
@pytest.mark.parametrize(
    ("written_from", "in_body", "records"),
    [
        ("body", True, 1),
        ("body", False, 2),  # headers alone write nothing: the second upsert is a duplicate
        ("header", False, 1),
        ("none", True, 2),
    ],
)
def test_where_an_upsert_takes_its_unique_value_from(
    client: BooksClient,
    org: SeededOrganization,
    customer: str,
    zoho: ZohoBooksStandIn,
    written_from: str,
    in_body: bool,
    records: int,
) -> None:
    zoho.upsert_field_from = written_from
    headers = {
        "X-Unique-Identifier-Key": "cf_sync_key",
        "X-Unique-Identifier-Value": "k1",
        "X-Upsert": "true",
    }
    body = invoice_body(org, customer)
    if in_body:
        body["custom_fields"] = [{"api_name": "cf_sync_key", "value": "k1"}]
    client.put("/invoices", body, headers=headers)
    client.put("/invoices", body, headers=headers)
    assert len(zoho.books(org.organization_id)["invoices"]) == records
