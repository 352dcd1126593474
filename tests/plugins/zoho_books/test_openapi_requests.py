"""Every request the plugin sends validates against Zoho's own OpenAPI request schemas.

Requests are recorded at the stand-in while the writer delivers every document kind, both
refund paths, a foreign-currency invoice with an exchange rate, upserts, and the metadata
look-ups. Objects are closed (no field the document does not name), so a misspelt or invented
field fails. Where Zoho's documents are wrong, the schema is corrected below, each with why:

1. Credit notes: the line item schema has no ``rate``, yet a credit-note line without one is a
   line of zero; Zoho's API takes ``rate`` on credit-note lines exactly as on invoice lines.
2. Credit notes: ``creditnote_number`` is listed as required, but it is required only with
   ``ignore_auto_number_generation=true``; otherwise Zoho numbers the note itself.
3. Invoices: the line item schema has no ``account_id``, which Zoho accepts on invoice lines
   (the income account of the line) and the API guide lists.
4. Customer payments: ``invoice_id`` and ``amount_applied`` are listed as required at the top
   level; they are the fields of each ``invoices[]`` entry, where they are declared.
5. Applying credit (``POST /creditnotes/{id}/invoices``): the same misplaced ``invoice_id`` and
   ``amount_applied`` in ``required``; the request carries them inside ``invoices[]``.
6. Applying credit through the invoice (``POST /invoices/{id}/credits``): both
   ``invoice_payments`` and ``apply_creditnotes`` are listed as required, but a call captured
   against the live API (Weble/ZohoBooksApi commit 1ca3237) sends ``apply_creditnotes`` alone
   and succeeds (zoho.credit.apply_via_invoice).
7. ``custom_fields`` items: the documents declare ``customfield_id`` and ``value`` only; public
   code also names the field by ``api_name`` or ``label`` (zoho.custom_fields.body_shape), which
   an upsert's body uses to carry its unique field. ``expenses.yml`` declares the items as
   strings, which no client sends; they are objects there too.
8. Credit notes: ``exchange_rate`` is typed a string, though the invoice, payment and expense
   documents type it a number (as every amount); it is a number here too.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from core.contracts import AccountSettings, DeliveryContext
from core.errors import DocumentRejected
from plugins.zoho_books.testing.standin import RecordedRequest, SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import Build
from zoho_books.openapi_extract import ORIGINALS, REFERENCE, USED, extract

DOCUMENTS: dict[str, Any] = json.loads(REFERENCE.read_text())
MODULE_OF = {path: module for module, paths in USED.items() for path in paths}
TEMPLATES = [
    (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in MODULE_OF
]


def _line_properties(schemas: dict[str, Any], request: str) -> dict[str, Any]:
    line_items = schemas[request]["properties"]["line_items"]
    if "$ref" in line_items:
        line_items = schemas[line_items["$ref"].rsplit("/", 1)[1]]
    properties: dict[str, Any] = line_items["items"]["properties"]
    return properties


def _not_required(schema: dict[str, Any], *names: str) -> None:
    schema["required"] = [name for name in schema.get("required", []) if name not in names]


def _named_custom_fields(node: Any) -> None:
    """Every ``custom_fields`` item schema also takes ``api_name`` and ``label``."""
    if isinstance(node, dict):
        fields = node.get("custom_fields")
        if isinstance(fields, dict) and isinstance(fields.get("items"), dict):
            if fields["items"].get("type") == "string":  # expenses.yml: items of no shape
                fields["items"] = {"type": "object", "properties": {"value": {}}}
            properties = fields["items"].setdefault("properties", {})
            properties.setdefault("api_name", {"type": "string"})
            properties.setdefault("label", {"type": "string"})
        for value in node.values():
            _named_custom_fields(value)
    elif isinstance(node, list):
        for value in node:
            _named_custom_fields(value)


def _corrected(module: str, document: dict[str, Any]) -> dict[str, Any]:
    """Zoho's document with the corrections listed in this module's docstring."""
    fixed = copy.deepcopy(document)
    schemas = fixed["components"]["schemas"]
    _named_custom_fields(schemas)  # correction 7
    if module == "credit-notes.yml":
        for name in ("create-a-credit-note-request", "update-a-credit-note-request"):
            _line_properties(schemas, name).setdefault(
                "rate", {"$ref": "#/components/schemas/rate"}
            )  # correction 1
            _not_required(schemas[name], "creditnote_number")  # correction 2
        if "exchange_rate" in schemas:
            schemas["exchange_rate"] = {"type": "number"}  # correction 8
        _not_required(
            schemas["credit-to-an-invoice-request"], "invoice_id", "amount_applied"
        )  # correction 5
    if module == "invoices.yml":
        for name in ("create-an-invoice-request", "update-an-invoice-request"):
            _line_properties(schemas, name).setdefault(
                "account_id", {"type": "string"}
            )  # correction 3
        _not_required(schemas["apply-credits-request"], "invoice_payments")  # correction 6
    if module == "customer-payments.yml":
        for name in ("create-a-payment-request", "update-a-payment-request"):
            _not_required(schemas[name], "invoice_id", "amount_applied")  # correction 4
    return fixed


def _closed(schema: Any, schemas: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """Inline references and forbid properties the document does not declare."""
    if isinstance(schema, list):
        return [_closed(item, schemas, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        return {} if name in seen else _closed(schemas[name], schemas, seen | {name})
    closed = {key: _closed(value, schemas, seen) for key, value in schema.items()}
    if closed.get("type") == "object" and "properties" in closed:
        closed["additionalProperties"] = False
    return closed


def _operation(request: RecordedRequest) -> tuple[str, dict[str, Any], dict[str, Any]]:
    for pattern, template in TEMPLATES:
        if pattern.match(request.path):
            module = MODULE_OF[template]
            document = _corrected(module, DOCUMENTS[module])
            item = document["paths"][template]
            assert request.method.lower() in item, f"{request.method} {template} is undocumented"
            return module, document, item
    raise AssertionError(f"{request.method} {request.path}: no such operation in Zoho's documents")


def _parameters(document: dict[str, Any], item: dict[str, Any], method: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for parameter in [*item.get("parameters", []), *item[method].get("parameters", [])]:
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found[parameter["name"]] = parameter
    return found


def check(request: RecordedRequest) -> None:
    module, document, item = _operation(request)
    method = request.method.lower()
    operation = item[method]
    parameters = _parameters(document, item, method)
    for name in request.query:
        assert name in parameters, f"{request.method} {request.path}: query {name} undocumented"
        assert parameters[name]["in"] == "query"
    if request.path != "/organizations":
        assert "organization_id" in request.query
    for name, parameter in parameters.items():
        if parameter["in"] == "header":
            assert name in request.headers or not parameter.get("required"), name
    body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body_schema is None:
        assert request.body is None, f"{request.method} {request.path} takes no body"
        return
    schema = _closed(body_schema["schema"], document["components"]["schemas"])
    errors = sorted(OAS30Validator(schema).iter_errors(request.body), key=str)
    assert not errors, f"{request.method} {request.path} ({module}): " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in errors
    )


def _deliver(build: Build, settings: AccountSettings, docs: list[Any], **config: Any) -> None:
    destination = build(**config)
    remote: dict[str, str] = {}
    for document in docs:
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))


@pytest.fixture
def recorded(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings
) -> list[RecordedRequest]:
    destination = build()
    destination.validate(settings)
    destination.health()
    _deliver(build, settings, list(sale("1").values()))  # credit refund from the bank
    unpaid = sale("2", "80.00", refund="80.00", paid=False)
    _deliver(build, settings, [unpaid["invoice"], unpaid["credit_note"], unpaid["credit_refund"]])
    foreign = sale("3", "10.00", "USD", exchange_rate="1.3421", fee="0.50", refund="1.00")
    _deliver(build, settings, list(foreign.values()))
    for document in sale("4").values():
        build().find_existing(document, DeliveryContext(settings, {}))
    _deliver(build, settings, list(sale("5").values()), unique_field="cf_sync_key")
    return list(zoho.requests)


@pytest.mark.vendor_fact("zoho.expense.create", "zoho.creditnote.create")
def test_the_writer_sends_only_documented_requests(recorded: list[RecordedRequest]) -> None:
    kinds = {(r.method, _operation(r)[0]) for r in recorded}
    assert {
        ("POST", "invoices.yml"),
        ("PUT", "invoices.yml"),
        ("POST", "customer-payments.yml"),
        ("PUT", "customer-payments.yml"),
        ("POST", "expenses.yml"),
        ("PUT", "expenses.yml"),
        ("POST", "credit-notes.yml"),
        ("POST", "contacts.yml"),
        ("GET", "chart-of-accounts.yml"),
    } <= kinds
    for request in recorded:
        check(request)


def test_the_check_fails_on_an_undocumented_field(recorded: list[RecordedRequest]) -> None:
    invoice = next(r for r in recorded if r.method == "POST" and r.path == "/invoices")
    broken = dataclasses.replace(invoice, body={**invoice.body, "amount": 1})
    with pytest.raises(AssertionError, match="Additional properties"):
        check(broken)
    as_text = copy.deepcopy(invoice.body)
    as_text["line_items"][0]["rate"] = "120.50"  # an amount as a string, not a number
    with pytest.raises(AssertionError, match="is not of type 'number'"):
        check(dataclasses.replace(invoice, body=as_text))


def test_amounts_are_json_numbers_with_the_currency_precision(
    recorded: list[RecordedRequest], org: SeededOrganization
) -> None:
    payment = next(r for r in recorded if r.path == "/customerpayments")
    assert payment.body["amount"] == Decimal("120.50")
    assert str(payment.body["amount"]) == "120.50"


@pytest.mark.skipif(not ORIGINALS.exists(), reason="Zoho's original documents are not here")
def test_the_stored_extract_matches_zohos_documents() -> None:
    assert extract(ORIGINALS) == DOCUMENTS


@pytest.mark.vendor_fact("zoho.invoice.update")
def test_a_wrong_draft_found_again_is_corrected_in_place_with_a_documented_update(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings, org: SeededOrganization
) -> None:
    invoice = sale("6")["invoice"]
    invoice_id = build().deliver(invoice, DeliveryContext(settings, {}))
    books = zoho.organization(org.organization_id)
    draft = books.invoices[invoice_id]
    draft.status, draft.total, draft.balance = "draft", Decimal("131.35"), Decimal("131.35")
    count, before = len(books.invoices), len(zoho.requests)
    found = build().find_existing(invoice, DeliveryContext(settings, {}))
    assert found == invoice_id and len(books.invoices) == count  # the same invoice, no other
    assert (draft.total, draft.status) == (Decimal("120.50"), "sent")
    [update] = [r for r in zoho.requests[before:] if r.method == "PUT"]
    assert update.path == f"/invoices/{invoice_id}"
    check(update)
    sent = books.invoices[invoice_id]
    sent.total = Decimal("131.35")  # no longer a draft: never rewritten, rejected instead
    with pytest.raises(DocumentRejected, match="delete it there"):
        build().find_existing(invoice, DeliveryContext(settings, {}))
