"""The forecast's arithmetic and its one line: calls per kind, minutes, today's room."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from core.contracts import CallCosts
from core.sync.forecast import forecast

COSTS = CallCosts(per_document={"invoice": 2, "payment": 1}, per_minute=100, setup=3, recheck=1)


def test_calls_per_kind_count_waiting_and_new_documents_and_rechecks() -> None:
    result = forecast(
        COSTS,
        ["invoice", "invoice", "payment", "journal"],
        waiting=Counter({"invoice": 3}),
        attempted=Counter({"invoice": 1}),
    )
    assert result.documents == Counter({"invoice": 5, "payment": 1, "journal": 1})
    assert result.calls == Counter({"invoice": 5 * 2 + 1, "payment": 1, "journal": 1, "setup": 3})
    assert result.total == 16
    assert result.minutes == 1


def test_nothing_to_deliver_costs_nothing_not_even_the_setup() -> None:
    result = forecast(COSTS, [], waiting=Counter(), attempted=Counter())
    assert result.total == 0
    assert result.line().startswith("0 calls; ")


def test_the_line_says_how_long_and_whether_it_fits_today() -> None:
    kinds = ["invoice"] * 620
    fits = forecast(COSTS, kinds, Counter(), Counter(), remaining_today=3_100)
    assert (
        fits.line() == "1,243 calls: about 13 minutes at 100 a minute; fits today's remaining 3,100"
    )
    resets = datetime(2027, 1, 1, tzinfo=UTC)
    short = forecast(COSTS, kinds, Counter(), Counter(), remaining_today=1_000, resets_at=resets)
    assert short.fits_today is False
    assert short.line().endswith(
        "more than today's remaining 1,000: about 243 calls wait for the next day "
        "(the quota resets at 2027-01-01 00:00 UTC)"
    )
    unknown = forecast(COSTS, kinds, Counter(), Counter())
    assert unknown.fits_today is None
    assert "not known yet" in unknown.line()


@given(
    st.lists(st.sampled_from(["invoice", "payment", "expense"]), max_size=300),
    st.integers(min_value=1, max_value=1_000),
)
def test_the_minutes_always_hold_the_calls_at_the_per_minute_limit(
    kinds: list[str], per_minute: int
) -> None:
    costs = CallCosts(per_document={"invoice": 2}, per_minute=per_minute)
    result = forecast(costs, kinds, Counter(), Counter())
    assert result.total == sum(2 if kind == "invoice" else 1 for kind in kinds)
    assert result.minutes * per_minute >= result.total > (result.minutes - 1) * per_minute or (
        result.total == 0 and result.minutes == 0
    )
