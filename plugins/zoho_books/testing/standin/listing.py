"""One way to answer a list request: keep the rows the query asks for, then one page of them.

Where the public evidence leaves a filter's meaning open, each reading is a variant of the
stand-in (:class:`ListFilters`), so the client is tested against all of them:

- ``reference_number`` (zoho.filter.reference_number_semantics): ``exact``, ``contains``
  (case-insensitive substring, the default: a client that trusts the filter fails it) or
  ``ignored`` (every row comes back);
- ``date_start``/``date_end`` (zoho.list.date_range): ``inclusive`` (both ends count),
  ``exclusive_end`` (the end day does not count, the default: a client that trusts an
  inclusive end misses its last day) or ``ignored`` (every row comes back).

Equality filters (``status``, ``customer_id``) match exactly; unknown parameters are ignored,
as Zoho does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError

__all__ = [
    "DATE_FILTERS",
    "DEFAULT_DATE_FILTER",
    "PAYMENT_LIST_KEYS",
    "REFERENCE_FILTERS",
    "ListFilters",
    "date_matcher",
    "listed",
    "page",
    "reference_matcher",
]

PAYMENT_LIST_KEYS = ("customerpayments", "customer_payments")
REFERENCE_FILTERS = ("exact", "contains", "ignored")
DATE_FILTERS = ("inclusive", "exclusive_end", "ignored")
DEFAULT_DATE_FILTER = "exclusive_end"
MAX_PER_PAGE = 200


def reference_matcher(mode: str) -> Callable[[str, str | None], bool]:
    """How ``?reference_number=`` matches a row's reference in variant ``mode``."""
    if mode not in REFERENCE_FILTERS:
        raise ValueError(f"reference_filter must be one of {REFERENCE_FILTERS}, not {mode!r}")

    def matches(value: str, wanted: str | None) -> bool:
        if wanted is None or mode == "ignored":
            return True
        if mode == "exact":
            return value == wanted
        return wanted.lower() in value.lower()

    return matches


def _day(query: dict[str, str], name: str) -> date | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, 2, f"Invalid value passed for {name}: use yyyy-mm-dd.") from None


def date_matcher(mode: str) -> Callable[[str, dict[str, str]], bool]:
    """Whether a row dated ``day`` (yyyy-mm-dd) is inside ``?date_start=&date_end=`` in
    variant ``mode``. A malformed bound is refused in every variant."""
    if mode not in DATE_FILTERS:
        raise ValueError(f"date_filter must be one of {DATE_FILTERS}, not {mode!r}")

    def matches(day: str, query: dict[str, str]) -> bool:
        start, end = _day(query, "date_start"), _day(query, "date_end")
        if mode == "ignored":
            return True
        dated = date.fromisoformat(day)
        if start is not None and dated < start:
            return False
        if end is None:
            return True
        return dated <= end if mode == "inclusive" else dated < end

    return matches


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The stand-in's variant of each filter whose meaning the evidence leaves open."""

    reference: str = "contains"
    dates: str = DEFAULT_DATE_FILTER

    def __post_init__(self) -> None:
        reference_matcher(self.reference)
        date_matcher(self.dates)

    def keep(
        self,
        rows: Iterable[dict[str, Any]],
        query: dict[str, str],
        *,
        equal: tuple[str, ...] = (),
        by_reference: bool = True,
        by_date: bool = False,
    ) -> list[dict[str, Any]]:
        """The rows the query asks for: ``equal`` fields match exactly; the reference and the
        date range match as this variant reads them (where the endpoint takes them)."""
        reference = reference_matcher(self.reference)
        in_range = date_matcher(self.dates)
        wanted = query.get("reference_number")
        return [
            row
            for row in rows
            if all(query.get(name) in (None, row.get(name)) for name in equal)
            and (not by_reference or reference(str(row.get("reference_number") or ""), wanted))
            and (not by_date or in_range(str(row["date"]), query))
        ]


def page(rows: list[dict[str, Any]], query: dict[str, str], key: str) -> dict[str, Any]:
    """Zoho's list envelope: one page of ``rows`` under ``key`` and its ``page_context``."""
    try:
        number = int(query.get("page", "1"))
        per_page = int(query.get("per_page", str(MAX_PER_PAGE)))
    except ValueError:
        raise ApiError(400, 2, "Invalid value passed for page or per_page.") from None
    if number < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, 2, "Invalid value passed for page or per_page (at most 200).")
    start = (number - 1) * per_page
    return {
        "code": 0,
        "message": "success",
        key: rows[start : start + per_page],
        "page_context": {
            "page": number,
            "per_page": per_page,
            "has_more_page": start + per_page < len(rows),
            "report_name": key,
            "sort_column": "created_time",
            "sort_order": "A",
        },
    }


def listed(
    rows: Iterable[dict[str, Any]],
    query: dict[str, str],
    key: str,
    filters: ListFilters,
    **keep: Any,
) -> dict[str, Any]:
    """The rows the query asks for (see :meth:`ListFilters.keep`), one page of them."""
    return page(filters.keep(rows, query, **keep), query, key)
