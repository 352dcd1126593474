"""Small pure parts: datacenters, exact JSON numbers, the sliding-window limiter."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ConfigurationError
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.datacenters import DATACENTERS, endpoints_for, is_known_accounts_root
from plugins.zoho_books.jsonnum import dumps, loads
from plugins.zoho_books.limiter import EPSILON, SlidingWindowLimiter

# -- datacenters -------------------------------------------------------------------------


def test_all_nine_datacenters_with_canadas_own_accounts_server() -> None:
    assert set(DATACENTERS) == {"com", "eu", "in", "com.au", "jp", "ca", "com.cn", "sa", "uk"}
    canada = endpoints_for("ca")
    assert canada.accounts_url == "https://accounts.zohocloud.ca"
    assert canada.books_url == "https://www.zohoapis.ca/books/v3"
    for code, dc in DATACENTERS.items():
        assert dc.api_url.startswith("https://www.zohoapis.")
        assert endpoints_for(code).accounts_url == dc.accounts_url
        assert is_known_accounts_root(dc.accounts_url)


def test_every_root_can_be_overridden() -> None:
    ends = endpoints_for("eu", accounts_url="http://127.0.0.1:8001/", api_url="https://proxy:9")
    assert (ends.accounts_url, ends.books_url) == (
        "http://127.0.0.1:8001",
        "https://proxy:9/books/v3",
    )


@pytest.mark.parametrize("option", ["accounts_url", "api_url"])
def test_plain_http_is_refused_beyond_loopback(option: str) -> None:
    with pytest.raises(ConfigurationError, match="is not https"):
        endpoints_for("eu", **{option: "http://proxy:9"})
    assert endpoints_for("eu", **{option: "http://localhost:9"})


@pytest.mark.parametrize("url", ["https://www.zohoapis.eu/books/v3", "accounts.zoho.eu"])
def test_an_override_must_be_a_root(url: str) -> None:
    with pytest.raises(ConfigurationError, match="root"):
        endpoints_for("eu", api_url=url)


def test_an_unknown_datacenter_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"com, eu, in, com\.au, jp, ca, com\.cn, sa, uk"):
        endpoints_for("ae")
    assert endpoints_for(".EU").accounts_url == "https://accounts.zoho.eu"


# -- exact JSON ------------------------------------------------------------------------------


def test_decimals_are_written_digit_for_digit_and_float_is_refused() -> None:
    body = {"amount": Decimal("1200.10"), "yen": Decimal("1200"), "kwd": Decimal("0.125")}
    assert dumps(body) == '{"amount":1200.10,"yen":1200,"kwd":0.125}'
    assert dumps([None, True, 'é"', 3]) == '[null,true,"\\u00e9\\"",3]'
    with pytest.raises(TypeError, match="float"):
        dumps({"amount": 1.1})
    with pytest.raises(ValueError, match="JSON number"):
        dumps(Decimal("NaN"))


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**12),
                max_value=10**12)
)  # fmt: skip
def test_any_decimal_survives_the_round_trip_exactly(amount: Decimal) -> None:
    text = dumps({"amount": amount})
    assert loads(text)["amount"] == amount
    assert json.loads(text)["amount"] is not None  # valid JSON for any reader


# -- limiter ----------------------------------------------------------------------------------


def test_the_limiter_admits_the_limit_then_waits_for_the_oldest_to_age_out() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(3, clock)
    for _ in range(3):
        limiter.acquire()
    assert clock.slept == [] and limiter.delay() == 60.0
    clock.advance(20)
    limiter.acquire()
    assert clock.slept == [40.0]


@given(st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=60),
       st.integers(min_value=1, max_value=7))  # fmt: skip
def test_no_window_of_sixty_seconds_ever_holds_more_than_the_limit(
    gaps: list[float], limit: int
) -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(limit, clock)
    granted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        limiter.acquire()
        granted.append(clock.monotonic())
    for i, start in enumerate(granted):
        # (a microsecond of tolerance keeps float rounding from stalling the clock)
        assert sum(1 for t in granted[i:] if t - start < 60.0 - EPSILON) <= limit
    # and it never waits longer than needed: each wait ends exactly when a slot frees
    for wait in clock.slept:
        assert 0 < wait <= 60.0 + EPSILON


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, ManualClock())
