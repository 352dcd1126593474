"""zoho.list.date_range: ``date_start``/``date_end`` bound a list, but whether the end day
counts (or the filter is applied at all) is not documented. Each reading is a variant of the
stand-in, and the adoption listing finds every document of its range in all of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from core.contracts import AccountSettings, DeliveryContext
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from plugins.zoho_books.testing.standin.listing import DATE_FILTERS
from zoho_books.documents import DAY, sale
from zoho_books.helpers import START, Build
from zoho_books.test_standin_variants import listing

DAYS = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]  # sale 0, 1, 2


@pytest.fixture(params=DATE_FILTERS)
def zoho(request: pytest.FixtureRequest) -> Iterator[ZohoBooksStandIn]:
    with ZohoBooksStandIn(
        start=START, organization_base=800_000_000, hold_seconds=60.0, date_filter=request.param
    ) as standin:
        yield standin


def deliver_on_three_days(build: Build, settings: AccountSettings) -> None:
    """Sale n's invoice and fee expense, dated DAYS[n]."""
    for serial, day in enumerate(DAYS):
        docs: Any = sale(str(serial))
        for kind in ("invoice", "expense"):
            dated = dataclasses.replace(docs[kind], date=day)
            build().deliver(dated, DeliveryContext(settings, {}))


def serials(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(str(row["reference_number"]).split(":")[2] for row in rows)


@pytest.mark.vendor_fact("zoho.list.date_range")
def test_the_stand_in_bounds_a_list_by_date_as_its_variant_says(
    build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, settings: AccountSettings
) -> None:
    deliver_on_three_days(build, settings)
    window = {"date_start": DAYS[0].isoformat(), "date_end": DAYS[1].isoformat()}
    expected = {"inclusive": ["0", "1"], "exclusive_end": ["0"], "ignored": ["0", "1", "2"]}
    for path in ("/invoices", "/expenses"):
        body = listing(zoho, org, path, **window)
        assert serials(body[path.strip("/")]) == expected[zoho.date_filter], path
    since = listing(zoho, org, "/invoices", date_start=DAYS[1].isoformat())
    later = ["0", "1", "2"] if zoho.date_filter == "ignored" else ["1", "2"]
    assert serials(since["invoices"]) == later
    refused = listing(zoho, org, "/invoices", date_start="14/01/2026")
    assert refused["code"] == 2 and "date_start" in refused["message"]


@pytest.mark.vendor_fact("zoho.list.date_range")
@pytest.mark.parametrize("day", [0, 1, 2])
def test_the_adoption_listing_finds_every_document_of_its_range_in_every_variant(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings, day: int
) -> None:
    """A one-day range still finds that day's documents when Zoho does not count the end day
    (the plugin asks up to the next day); what else an ignored filter brings costs nothing."""
    deliver_on_three_days(build, settings)
    found = build().keys_in_books(DAYS[day], DAYS[day])
    assert {f"test:charge:{day}:invoice", f"test:charge:{day}:fee"} <= found
    if zoho.date_filter != "ignored":
        assert not any(f":{day - 1}:" in key for key in found), found  # the range still narrows
