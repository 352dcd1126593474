"""The behaviours public evidence leaves open are settings of the stand-in, and the client
works against every one of them.

- zoho.list_key.customerpayments: the live API lists customer payments under
  ``customerpayments``; Zoho's OpenAPI document says ``customer_payments``.
- zoho.filter.reference_number_semantics: ``?reference_number=`` may match exactly, by
  "contains", or be ignored (every row returned).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from core.contracts import AccountSettings, DeliveryContext
from core.errors import TransientError
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from plugins.zoho_books.testing.standin.server import PAYMENT_LIST_KEYS, REFERENCE_FILTERS
from zoho_books.documents import sale
from zoho_books.helpers import START, Build

VARIANTS = [(key, match) for key in PAYMENT_LIST_KEYS for match in REFERENCE_FILTERS]


@pytest.fixture(params=VARIANTS, ids=[f"{key}-{match}" for key, match in VARIANTS])
def zoho(request: pytest.FixtureRequest) -> Iterator[ZohoBooksStandIn]:
    key, match = request.param
    with ZohoBooksStandIn(
        start=START,
        organization_base=800_000_000,
        hold_seconds=60.0,
        payments_list_key=key,
        reference_filter=match,
    ) as standin:
        yield standin


def deliver_all(build: Build, settings: AccountSettings, docs: dict[str, Any]) -> dict[str, str]:
    remote: dict[str, str] = {}
    for document in docs.values():
        context = DeliveryContext(
            settings, {k: remote[k] for k in document.depends_on if k in remote}
        )
        remote[document.key] = build().deliver(document, context)
    return remote


def listing(zoho: ZohoBooksStandIn, org: SeededOrganization, path: str, **query: Any) -> Any:
    tokens = zoho.tokens()
    answer = requests.get(
        f"{zoho.api_url}/books/v3{path}",
        params={"organization_id": org.organization_id, **query},
        headers={"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"},
        timeout=10,
    )
    return answer.json()


@pytest.mark.vendor_fact("zoho.list_key.customerpayments", "zoho.filter.reference_number_semantics")
def test_the_stand_in_answers_the_variant_it_was_given(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    deliver_all(build, settings, sale("1"))
    deliver_all(build, settings, sale("10"))
    body = listing(zoho, org, "/customerpayments", reference_number="test:charge:1:payment")
    other = next(key for key in PAYMENT_LIST_KEYS if key != zoho.payments_list_key)
    assert other not in body
    found = sorted(row["reference_number"] for row in body[zoho.payments_list_key])
    expected = {
        "exact": ["test:charge:1:payment"],
        # "contains", case-insensitive: ":1" is in ":10" only with the colon after it missing
        "contains": ["test:charge:1:payment"],
        "ignored": ["test:charge:10:payment", "test:charge:1:payment"],
    }[zoho.reference_filter]
    assert found == sorted(expected)
    loose = listing(zoho, org, "/invoices", reference_number="TEST:CHARGE:1")
    assert (
        len(loose["invoices"]) == {"exact": 0, "contains": 2, "ignored": 2}[zoho.reference_filter]
    )


@pytest.mark.vendor_fact("zoho.list_key.customerpayments", "zoho.filter.reference_number_semantics")
@pytest.mark.parametrize("kind", ["invoice", "payment", "expense", "credit_note"])
def test_a_document_is_found_again_by_its_exact_reference_in_every_variant(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    kind: str,
) -> None:
    """Every row is re-checked for the exact key: "contains" and "ignored" answer the
    look-up for sale 1 with the documents of sale 1x too."""
    remote: dict[str, str] = {}
    for serial in ("10", "1", "11"):
        remote |= deliver_all(build, settings, sale(serial))
    wanted: Any = sale("1")[kind]
    context = DeliveryContext(settings, {k: remote[k] for k in wanted.depends_on})
    assert build().find_existing(wanted, context) == remote[wanted.key]
    absent: Any = sale("2")[kind]
    context = DeliveryContext(settings, {k: remote[k] for k in wanted.depends_on})
    assert build().find_existing(absent, context) is None


@pytest.mark.vendor_fact("zoho.pagination.page_per_page")
def test_a_look_up_pages_on_when_the_filter_returns_everything(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    if zoho.reference_filter != "ignored":
        pytest.skip("only the ignored filter returns more than a page here")
    docs: Any = {}
    for serial in range(205):
        docs = sale(str(serial))
        build().deliver(docs["expense"], DeliveryContext(settings, {}))
    pages = len(zoho.requests)
    assert build().find_existing(docs["expense"], DeliveryContext(settings, {}))
    lists = [r for r in zoho.requests[pages:] if r.path == "/expenses" and r.method == "GET"]
    assert [r.query.get("page") for r in lists] == ["1", "2"]


@pytest.mark.vendor_fact("zoho.list_key.customerpayments")
def test_a_list_answer_without_its_key_is_an_error_not_an_empty_list(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    """zoho.list_key.customerpayments: finding no list key at all must never read as "the
    payment is not there" (that is how a lost payment was sent again and refused)."""
    remote = deliver_all(build, settings, {"invoice": sale("1")["invoice"]})
    zoho.payments_list_key = "payments_list"  # neither key the evidence knows
    payment: Any = sale("1")["payment"]
    context = DeliveryContext(settings, {payment.invoice_key: remote[payment.invoice_key]})
    with pytest.raises(TransientError, match="without the list"):
        build().find_existing(payment, context)
