"""The stand-in's one list helper (``testing/standin/listing.py``): its paging and the filter
variants, as properties over any rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.listing import ListFilters, page

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 1, 31))
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "date": DAYS.map(date.isoformat),
            "reference_number": st.sampled_from(["k:1", "k:10", "K:1", "other", ""]),
            "status": st.sampled_from(["draft", "sent"]),
        }
    ),
    max_size=30,
)


def kept(rows: list[dict[str, Any]], query: dict[str, str], dates: str) -> list[dict[str, Any]]:
    return ListFilters("exact", dates).keep(rows, query, equal=("status",), by_date=True)


@given(rows=ROWS, per_page=st.integers(1, 200))
def test_paging_on_until_no_more_page_reads_every_row_once_in_order(
    rows: list[dict[str, Any]], per_page: int
) -> None:
    read: list[dict[str, Any]] = []
    number = 1
    while True:
        answer = page(rows, {"page": str(number), "per_page": str(per_page)}, "invoices")
        read.extend(answer["invoices"])
        assert answer["page_context"]["page"] == number
        if not answer["page_context"]["has_more_page"]:
            break
        number += 1
    assert read == rows


@pytest.mark.vendor_fact("zoho.list.date_range")
@given(rows=ROWS, start=DAYS, span=st.integers(0, 10))
def test_the_date_variants_nest_and_inclusive_is_exclusive_end_a_day_later(
    rows: list[dict[str, Any]], start: date, span: int
) -> None:
    end = start + timedelta(days=span)
    query = {"date_start": start.isoformat(), "date_end": end.isoformat()}
    later = {**query, "date_end": (end + timedelta(days=1)).isoformat()}
    exclusive, inclusive = kept(rows, query, "exclusive_end"), kept(rows, query, "inclusive")
    assert all(row in inclusive for row in exclusive)
    assert kept(rows, query, "ignored") == rows
    assert inclusive == kept(rows, later, "exclusive_end")
    assert all(start.isoformat() <= row["date"] <= end.isoformat() for row in inclusive)


@pytest.mark.vendor_fact("zoho.filter.reference_number_semantics")
@given(rows=ROWS, wanted=st.sampled_from(["k:1", "K:1", "zzz"]))
def test_the_reference_variants_nest_exact_contains_ignored(
    rows: list[dict[str, Any]], wanted: str
) -> None:
    query = {"reference_number": wanted}
    found = {mode: ListFilters(mode).keep(rows, query) for mode in ("exact", "contains", "ignored")}
    assert all(row in found["contains"] for row in found["exact"])
    assert found["ignored"] == rows
    assert all(row["reference_number"] == wanted for row in found["exact"])


@pytest.mark.parametrize(
    "query", [{"page": "0"}, {"per_page": "201"}, {"page": "x"}, {"per_page": "0"}]
)
def test_a_page_out_of_range_is_refused_with_code_2(query: dict[str, str]) -> None:
    with pytest.raises(ApiError) as refused:
        page([], query, "invoices")
    assert (refused.value.status, refused.value.code) == (400, 2)


def test_an_unknown_variant_is_refused_when_the_stand_in_is_made() -> None:
    with pytest.raises(ValueError, match="date_filter"):
        ListFilters(dates="half_open")
    with pytest.raises(ValueError, match="reference_filter"):
        ListFilters(reference="fuzzy")
