"""Zoho Books facts held on both sides (docs/vendor-facts.md): the root and the header every
call uses, the envelope, and the list and object keys of every answer the plugin reads. Each
test asks the stand-in over raw HTTP what it answers, and has the plugin's own code (its
client, metadata reader and writer) read the same answer."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import requests

from core.contracts import AccountSettings, DeliveryContext
from core.errors import AuthorizationFailed, ConfigurationError, DocumentRejected
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.datacenters import endpoints_for
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.jsonnum import dumps
from plugins.zoho_books.oauth import OAuthClient
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SeededOrganization,
    ZohoBooksStandIn,
)
from zoho_books.documents import sale
from zoho_books.helpers import Build


@pytest.fixture
def destination(build: Build) -> ZohoBooksDestination:
    return build()


@pytest.fixture
def client(destination: ZohoBooksDestination) -> BooksClient:
    return destination.client


def _raw(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    path: str,
    *,
    organization: str | None = None,
    scheme: str = "Zoho-oauthtoken",
) -> requests.Response:
    params = {"organization_id": organization} if organization else {}
    headers = {"Authorization": f"{scheme} {destination.tokens.current()}"}
    return requests.get(f"{zoho.api_url}/books/v3{path}", params=params, headers=headers, timeout=5)


@pytest.mark.vendor_fact("zoho.base_url.books_v3", "zoho.auth.header_oauthtoken")
def test_every_call_goes_to_books_v3_with_the_zoho_oauthtoken_header(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, org: SeededOrganization
) -> None:
    assert endpoints_for("eu").books_url == "https://www.zohoapis.eu/books/v3"
    with pytest.raises(ConfigurationError, match="has a path"):
        endpoints_for("com", api_url="https://www.zohoapis.com/books/v3")
    assert destination.client.books_url == f"{zoho.api_url}/books/v3"

    destination.client.get("/items")
    assert _raw(zoho, destination, "/items", organization=org.organization_id).status_code == 200
    bearer = _raw(zoho, destination, "/items", organization=org.organization_id, scheme="Bearer")
    assert (bearer.status_code, bearer.json()["code"]) == (401, 14)
    elsewhere = requests.get(f"{zoho.api_url}/api/v3/items", timeout=5)
    assert elsewhere.status_code == 404


@pytest.mark.vendor_fact("zoho.envelope.code_message", "zoho.amounts.json_numbers")
def test_every_answer_is_the_code_message_envelope_with_amounts_as_json_numbers(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    remote = destination.deliver(sale("1")["invoice"], DeliveryContext(settings, {}))
    answer = _raw(zoho, destination, f"/invoices/{remote}", organization=org.organization_id)
    text = answer.text
    body = answer.json()
    assert (body["code"], type(body["message"])) == (0, str)
    total = body["invoice"]["total"]
    assert isinstance(total, int | float) and f'"total": {total}' in text.replace('":', '": ')
    # The plugin writes Decimal digit for digit as a JSON number and reads it back exact.
    assert dumps({"amount": Decimal("10.10")}) == '{"amount":10.10}'
    assert destination.client.get(f"/invoices/{remote}")["invoice"]["total"] == Decimal("120.50")
    missing = _raw(zoho, destination, "/invoices/1", organization=org.organization_id).json()
    assert missing["code"] != 0 and missing["message"]


@pytest.mark.vendor_fact("zoho.request.organization_id_query", "zoho.list_key.organizations")
def test_the_organization_goes_in_the_query_except_for_the_organization_list(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    org: SeededOrganization,
) -> None:
    zoho.requests.clear()
    destination.client.get("/items")
    listed = destination.client.request("GET", "/organizations", with_organization=False)
    assert org.organization_id in {row["organization_id"] for row in listed["organizations"]}
    items, organizations = zoho.requests[-2:]
    assert dict(items.query).get("organization_id") == org.organization_id
    assert "organization_id" not in dict(organizations.query)
    assert destination.health().ok
    # Raw: without the organization, every call but /organizations is refused with 6041.
    assert _raw(zoho, destination, "/items").json()["code"] == 6041
    assert "organizations" in _raw(zoho, destination, "/organizations").json()


LIST_KEYS = [
    pytest.param(
        "/chartofaccounts",
        "chartofaccounts",
        id="chartofaccounts",
        marks=pytest.mark.vendor_fact("zoho.list_key.chartofaccounts"),
    ),
    pytest.param(
        "/items", "items", id="items", marks=pytest.mark.vendor_fact("zoho.list_key.items")
    ),
    pytest.param(
        "/settings/currencies",
        "currencies",
        id="currencies",
        marks=pytest.mark.vendor_fact("zoho.list_key.currencies"),
    ),
    pytest.param(
        "/contacts",
        "contacts",
        id="contacts",
        marks=pytest.mark.vendor_fact("zoho.list_key.contacts"),
    ),
    pytest.param(
        "/invoices",
        "invoices",
        id="invoices",
        marks=pytest.mark.vendor_fact("zoho.list_key.invoices"),
    ),
    pytest.param(
        "/expenses",
        "expenses",
        id="expenses",
        marks=pytest.mark.vendor_fact("zoho.list_key.expenses"),
    ),
    pytest.param(
        "/creditnotes",
        "creditnotes",
        id="creditnotes",
        marks=pytest.mark.vendor_fact("zoho.list_key.creditnotes"),
    ),
]


@pytest.mark.parametrize(("path", "key"), LIST_KEYS)
def test_each_list_answers_its_rows_under_its_key(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    org: SeededOrganization,
    settings: AccountSettings,
    path: str,
    key: str,
) -> None:
    documents = sale("1", refund="4.00")
    remote: dict[str, str] = {}
    for document in documents.values():
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))

    body = _raw(zoho, destination, path, organization=org.organization_id).json()
    assert isinstance(body[key], list) and body[key], sorted(body)
    assert body["page_context"]["page"] == 1
    rows = destination.client.list_all(path, key)
    assert len(rows) == len(body[key])


@pytest.mark.vendor_fact(
    "zoho.list_key.chartofaccounts",
    "zoho.list_key.items",
    "zoho.list_key.currencies",
    "zoho.list_key.contacts",
)
def test_the_metadata_reader_finds_what_the_lists_hold(
    destination: ZohoBooksDestination, org: SeededOrganization, settings: AccountSettings
) -> None:
    metadata = destination.metadata
    assert metadata.account(str(settings.sales_account)) is not None
    assert metadata.item(str(settings.item)) is not None
    assert metadata.currency("SGD") is not None
    sgd = metadata.currency("SGD")
    assert sgd is not None
    customer = metadata.customer_for(sgd)
    rows = destination.client.list_all("/contacts", "contacts", {"contact_name": "x"})
    assert customer in {str(row["contact_id"]) for row in rows} or rows == []
    named = destination.client.list_all(
        "/contacts", "contacts", {"contact_name": metadata.customer_name(sgd)}
    )
    assert [str(row["contact_id"]) for row in named] == [customer]


OBJECT_KEYS: list[tuple[str, str, str]] = [
    ("invoice", "invoice", "invoice_id"),
    ("payment", "payment", "payment_id"),
    ("expense", "expense", "expense_id"),
    ("credit_note", "creditnote", "creditnote_id"),
    ("credit_refund", "creditnote_refund", "creditnote_refund_id"),
]


@pytest.mark.vendor_fact(
    "zoho.object_key.invoice",
    "zoho.object_key.expense_creditnote_contact",
    "zoho.list_key.creditnote_refunds",
    "zoho.creditnote.refund",
    "zoho.filter.creditnote_refunds_no_reference_filter",
)
def test_each_created_record_comes_back_under_its_object_key(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    documents = sale("1", refund="4.00")
    remote: dict[str, str] = {}
    for document in documents.values():
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
    kinds = {name: documents[name].key for name, _object, _id in OBJECT_KEYS if name in documents}
    assert set(kinds) == {name for name, _, _ in OBJECT_KEYS}

    created = {
        request.path
        for request in zoho.requests
        if request.method in ("POST", "PUT") and zoho.answers[request.number] == (201, 0)
    }
    assert {"/invoices", "/customerpayments", "/expenses", "/creditnotes"} <= created

    note = remote[kinds["credit_note"]]
    refunds = _raw(
        zoho, destination, f"/creditnotes/{note}/refunds", organization=org.organization_id
    )
    rows = refunds.json()["creditnote_refunds"]
    assert [row["creditnote_refund_id"] for row in rows] == [remote[kinds["credit_refund"]]]
    assert isinstance(rows[0]["creditnote_refund_id"], str)
    # The writer finds the refund again on its credit note (as after a lost answer).
    context = DeliveryContext(settings, remote)
    assert (
        destination.find_existing(documents["credit_refund"], context)
        == (remote[kinds["credit_refund"]])
    )
    for name, object_key, id_field in OBJECT_KEYS:
        if name in ("payment", "credit_refund"):
            continue
        path = {"invoice": "invoices", "expense": "expenses", "credit_note": "creditnotes"}[name]
        got = _raw(
            zoho, destination, f"/{path}/{remote[kinds[name]]}", organization=org.organization_id
        )
        assert got.json()[object_key][id_field] == remote[kinds[name]]
        assert destination.find_existing(documents[name], context) == remote[kinds[name]]


@pytest.mark.vendor_fact("zoho.list_key.invoices_credited")
def test_credit_applied_to_an_unpaid_invoice_is_listed_under_invoices_credited(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    documents = sale("2", paid=False, refund="4.00")
    remote: dict[str, str] = {}
    for name in ("invoice", "credit_note", "credit_refund"):  # the refund applies the credit
        document = documents[name]
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
    invoice, note = (remote[documents[name].key] for name in ("invoice", "credit_note"))
    credited = _raw(
        zoho, destination, f"/creditnotes/{note}/invoices", organization=org.organization_id
    )
    [row] = credited.json()["invoices_credited"]
    assert (row["invoice_id"], type(row["creditnote_invoice_id"])) == (invoice, str)
    assert destination.client.get(f"/creditnotes/{note}/invoices")["invoices_credited"] == [row]


@pytest.mark.vendor_fact("zoho.error.6041_org_not_associated", "zoho.request.organization_id_query")
def test_an_organization_the_user_cannot_reach_fails_the_connection_not_a_document(
    build: Build, settings: AccountSettings, zoho: ZohoBooksStandIn
) -> None:
    wrong = build(organization_id="60059694101")

    with pytest.raises(AuthorizationFailed) as caught:
        wrong.deliver(sale("1")["invoice"], DeliveryContext(settings, {}))

    assert not isinstance(caught.value, DocumentRejected)
    assert "cannot reach organization 60059694101" in caught.value.message
    assert "ledgersync zoho connect" in caught.value.hint and caught.value.side == "destination"
    assert 6041 in zoho.codes()
    assert not wrong.health().ok


@pytest.mark.vendor_fact("zoho.oauth.refresh", "zoho.oauth.access_token_lifetime")
def test_a_refresh_gives_a_new_access_token_and_no_new_refresh_token(
    zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    tokens = zoho.tokens()
    form = {
        "grant_type": "refresh_token",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": tokens["refresh_token"],
    }
    raw = requests.post(f"{zoho.accounts_url}/oauth/v2/token", data=form, timeout=5).json()
    assert raw["access_token"] != tokens["access_token"] and "refresh_token" not in raw
    assert raw["expires_in"] == 3600

    oauth = OAuthClient(zoho.accounts_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, clock=clock)
    grant = oauth.refresh(tokens["refresh_token"])
    assert not grant.refresh_token  # the stored one stays the connection's refresh token
    assert (grant.expires_at - clock.now()).total_seconds() == 3600
    assert oauth.refresh(tokens["refresh_token"]).access_token != grant.access_token


@pytest.mark.vendor_fact("zoho.accounts.chartofaccounts_fields")
def test_accounts_carry_their_fields_and_the_all_filter_lists_inactive_ones(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, org: SeededOrganization
) -> None:
    org_id = org.organization_id
    inactive = org.inactive_accounts["income"]
    default = _raw(zoho, destination, "/chartofaccounts", organization=org_id).json()
    row = default["chartofaccounts"][0]
    assert {"account_id", "account_name", "account_code", "account_type", "is_active"} <= set(row)

    account = destination.metadata.account(inactive)  # the plugin asks with AccountType.All
    assert account is not None and not account.is_active and account.account_type == "income"
    [listed] = [r for r in zoho.requests if r.path == "/chartofaccounts"][-1:]
    assert listed.query.get("filter_by") == "AccountType.All"


@pytest.mark.vendor_fact("zoho.organizations.fields", "zoho.currencies.fields")
def test_organizations_and_currencies_carry_the_fields_the_plugin_reads(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, org: SeededOrganization
) -> None:
    organizations = _raw(zoho, destination, "/organizations").json()["organizations"]
    fields = {"organization_id", "name", "currency_id", "currency_code", "time_zone"}
    fields |= {"price_precision", "is_default_org", "plan_name"}
    assert all(fields <= set(row) for row in organizations)
    currencies = _raw(
        zoho, destination, "/settings/currencies", organization=org.organization_id
    ).json()["currencies"]
    needed = {"currency_id", "currency_code", "price_precision", "is_base_currency"}
    assert all(needed | {"exchange_rate"} <= set(row) for row in currencies)

    by_code = {row["currency_code"]: row for row in currencies}
    for code in ("SGD", "JPY"):
        currency = destination.metadata.currency(code)
        assert currency is not None
        assert (currency.currency_id, currency.price_precision, currency.is_base_currency) == (
            str(by_code[code]["currency_id"]),
            by_code[code]["price_precision"],
            by_code[code]["is_base_currency"],
        )


@pytest.mark.vendor_fact("zoho.payment.payment_mode_values", "zoho.payment.create")
def test_the_payment_mode_the_plugin_sends_is_one_zoho_knows(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    client: BooksClient,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    documents = sale("3")
    remote: dict[str, str] = {}
    for name in ("invoice", "payment"):
        document = documents[name]
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
    [sent] = [r for r in zoho.requests if r.method == "POST" and r.path == "/customerpayments"]
    assert sent.body["payment_mode"] == "others"
    body = dict(sent.body) | {"payment_mode": "paypal", "reference_number": "other"}
    with pytest.raises(DocumentRejected, match="payment_mode"):
        client.post("/customerpayments", body)


@pytest.mark.vendor_fact("zoho.request.body_json_or_jsonstring")
def test_bodies_go_as_raw_json_and_the_standin_takes_jsonstring_too(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, org: SeededOrganization
) -> None:
    destination.client.post("/contacts", {"contact_name": "Raw JSON"})
    [sent] = [r for r in zoho.requests if r.method == "POST" and r.path == "/contacts"]
    assert sent.headers.get("Content-Type", "").startswith("application/json")
    form = requests.post(
        f"{zoho.api_url}/books/v3/contacts",
        params={"organization_id": org.organization_id},
        data={"JSONString": '{"contact_name": "Form field"}'},
        headers={"Authorization": f"Zoho-oauthtoken {destination.tokens.current()}"},
        timeout=5,
    )
    assert (form.status_code, form.json()["contact"]["contact_name"]) == (201, "Form field")
    bad = requests.post(
        f"{zoho.api_url}/books/v3/contacts",
        params={"organization_id": org.organization_id},
        data={"JSONString": "{not json"},
        headers={"Authorization": f"Zoho-oauthtoken {destination.tokens.current()}"},
        timeout=5,
    )
    assert bad.json()["code"] == 4


@pytest.mark.vendor_fact("zoho.filter.contact_name")
def test_the_generic_customer_is_re_checked_by_exact_name_and_currency(
    zoho: ZohoBooksStandIn, destination: ZohoBooksDestination, client: BooksClient
) -> None:
    """The stand-in filters by "contains"; an exact filter returns a subset of that, so the
    client's exact re-check covers both."""
    metadata = destination.metadata
    sgd, usd = metadata.currency("SGD"), metadata.currency("USD")
    assert sgd is not None and usd is not None
    name = metadata.customer_name(sgd)
    client.post("/contacts", {"contact_name": f"{name} (old)"})
    client.post("/contacts", {"contact_name": f"Old {name}", "currency_id": usd.currency_id})
    contains = client.list_all("/contacts", "contacts", {"contact_name": name})
    assert len(contains) == 2  # the stand-in's filter matches by "contains"

    customer = metadata.customer_for(sgd)

    created = [r for r in zoho.requests if r.method == "POST" and r.path == "/contacts"]
    assert created[-1].body["contact_name"] == name  # neither near match was taken
    assert customer not in {str(row["contact_id"]) for row in contains}


@pytest.mark.vendor_fact("zoho.accounts.account_type_values")
@pytest.mark.parametrize(
    ("role", "account_type", "needed"),
    [
        ("refund_account", "refund_liability", "other_current_liability"),
        ("sales_account", "other_income", "income"),
        ("fee_account", "a_type_zoho_may_add", "expense"),
    ],
)
def test_an_account_of_another_type_is_refused_naming_the_type_it_needs(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    role: str,
    account_type: str,
    needed: str,
) -> None:
    with zoho.lock:
        account_id = zoho.organization(org.organization_id).add_account("Odd one", account_type)
    wrong = dataclasses.replace(settings, **{role: account_id})

    with pytest.raises(ConfigurationError) as caught:
        build().validate(wrong)

    assert f"'Odd one' ({account_id}) is of type {account_type}, but it needs type {needed}" in (
        str(caught.value)
    )


@pytest.mark.vendor_fact("zoho.payment.many_invoices")
def test_one_payment_settles_several_invoices(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    client: BooksClient,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    """The writer pays one invoice per payment today; --payments daily (issue 17) will send
    several rows, which the stand-in and the client already carry."""
    invoices = []
    for serial in ("4", "5"):
        invoice = sale(serial, amount="30.00")["invoice"]
        invoices.append(destination.deliver(invoice, DeliveryContext(settings, {})))
    customer = client.get(f"/invoices/{invoices[0]}")["invoice"]["customer_id"]
    body = {
        "customer_id": customer,
        "payment_mode": "others",
        "amount": Decimal("60.00"),
        "date": "2026-01-14",
        "account_id": org.bank_account,
        "reference_number": "day:2026-01-14:payment",
        "invoices": [{"invoice_id": i, "amount_applied": Decimal("30.00")} for i in invoices],
    }
    payment = client.post("/customerpayments", body)["payment"]
    assert {str(row["invoice_id"]) for row in payment["invoices"]} == set(invoices)
    assert [client.get(f"/invoices/{i}")["invoice"]["status"] for i in invoices] == ["paid"] * 2


@pytest.mark.vendor_fact("zoho.error.3062_duplicate_contact_name", "zoho.contact.create")
def test_a_contact_of_the_same_name_in_another_currency_is_named_in_one_line(
    zoho: ZohoBooksStandIn,
    destination: ZohoBooksDestination,
    client: BooksClient,
    org: SeededOrganization,
    settings: AccountSettings,
) -> None:
    metadata = destination.metadata
    usd = metadata.currency("USD")
    assert usd is not None
    name = metadata.customer_name(metadata.currency("SGD"))  # type: ignore[arg-type]
    client.post("/contacts", {"contact_name": name, "currency_id": usd.currency_id})
    raw = requests.post(
        f"{zoho.api_url}/books/v3/contacts",
        params={"organization_id": org.organization_id},
        json={"contact_name": name},
        headers={"Authorization": f"Zoho-oauthtoken {destination.tokens.current()}"},
        timeout=5,
    )
    assert (raw.status_code, raw.json()["code"]) == (400, 3062)

    with pytest.raises(ConfigurationError) as caught:
        destination.deliver(sale("6")["invoice"], DeliveryContext(settings, {}))

    assert f"already has a contact named {name!r} in another currency (USD)" in (
        caught.value.message
    )
    assert "Rename that contact" in caught.value.hint


@pytest.mark.vendor_fact("zoho.items.fields_and_active_default")
@pytest.mark.parametrize("active_only", [False, True], ids=["all-by-default", "active-by-default"])
def test_an_inactive_item_is_reported_inactive_whatever_the_default_list_holds(
    zoho: ZohoBooksStandIn,
    build: Build,
    org: SeededOrganization,
    settings: AccountSettings,
    active_only: bool,
) -> None:
    zoho.items_active_only_by_default = active_only
    destination = build()
    default = _raw(zoho, destination, "/items", organization=org.organization_id).json()["items"]
    assert (org.inactive_item in {row["item_id"] for row in default}) is not active_only
    assert {"item_id", "name", "status", "rate"} <= set(default[0])

    with pytest.raises(ConfigurationError) as caught:
        destination.validate(dataclasses.replace(settings, item=org.inactive_item))

    assert "item 'Discontinued'" in str(caught.value) and "inactive" in str(caught.value)
    assert "does not exist" not in str(caught.value)
