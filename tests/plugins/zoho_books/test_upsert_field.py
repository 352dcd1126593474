"""An upsert carries its unique custom field in the body too, and its answer is checked for it
(zoho.upsert.field_written_on_create: nothing public says the headers alone write it)."""

from __future__ import annotations

from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext
from core.errors import ConfigurationError
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import Build


@pytest.mark.vendor_fact("zoho.upsert.field_written_on_create", "zoho.upsert.headers")
@pytest.mark.parametrize("written_from", ["body", "header"])
@pytest.mark.vendor_fact("zoho.custom_fields.body_shape")
def test_a_resent_upsert_updates_the_record_it_made(
    build: Build,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    settings: AccountSettings,
    written_from: str,
) -> None:
    zoho.upsert_field_from = written_from
    invoice: Any = sale("1")["invoice"]
    expense: Any = sale("1")["expense"]
    for _ in range(2):  # a blind resend (as after a lost answer) makes no second record
        build(unique_field="cf_sync_key").deliver(invoice, DeliveryContext(settings, {}))
        build(unique_field="cf_sync_key").deliver(expense, DeliveryContext(settings, {}))
    books = zoho.books(org.organization_id)
    assert [row["reference_number"] for row in books["invoices"]] == [invoice.key]
    assert [row["reference_number"] for row in books["expenses"]] == [expense.key]
    [put] = [r for r in zoho.api_requests("PUT", "/expenses")][:1]
    assert put.body["custom_fields"] == [{"api_name": "cf_sync_key", "value": expense.key}]


@pytest.mark.vendor_fact("zoho.upsert.field_written_on_create")
def test_an_upsert_whose_answer_lacks_the_field_stops_with_one_line(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    zoho.upsert_field_from = "none"
    expense: Any = sale("1")["expense"]
    with pytest.raises(ConfigurationError, match="did not keep the unique custom field") as error:
        build(unique_field="cf_sync_key").deliver(expense, DeliveryContext(settings, {}))
    assert "\n" not in str(error.value)
    # the record Zoho made is found again by reference, never made twice
    found = build(unique_field="cf_sync_key").find_existing(expense, DeliveryContext(settings, {}))
    [row] = zoho.books(org.organization_id)["expenses"]
    assert found == row["id"]
