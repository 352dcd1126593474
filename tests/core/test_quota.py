"""ledgersync's share of the destination's daily quota: never more than the organization has
left, never more than the share less what ledgersync used, never negative."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from core.connections.quota import DEFAULT_API_SHARE, QuotaStatus, api_share
from core.store.quota import DailyQuota

SEEN = datetime(2027, 1, 1, 3, tzinfo=UTC)


@given(
    limit=st.integers(1, 10_000),
    remaining=st.integers(0, 10_000),
    share=st.integers(1, 100),
    used=st.integers(0, 12_000),
)
def test_share_left_is_bounded_by_the_share_and_by_what_the_organization_has_left(
    limit: int, remaining: int, share: int, used: int
) -> None:
    status = QuotaStatus(limit, min(remaining, limit), None, SEEN, share, used)
    assert 0 <= status.share_left <= status.remaining
    assert status.share_left <= max(0, status.share_calls - used)
    assert status.share_calls <= limit


def test_other_apps_leave_less_than_the_share() -> None:
    status = QuotaStatus(1_000, 150, None, SEEN, 80, 100)  # others used 750 today
    assert status.share_calls == 800
    assert status.share_left == 150


def test_the_share_setting_defaults_to_80_and_stays_within_1_to_100() -> None:
    assert api_share({}) == DEFAULT_API_SHARE == 80
    assert api_share({"api_share": "25"}) == 25
    assert api_share({"api_share": "250"}) == 100
    assert api_share({"api_share": "lots"}) == 80


def test_a_stored_quota_reads_back_and_a_damaged_one_reads_as_unknown() -> None:
    quota = DailyQuota(1_000, 640, datetime(2027, 1, 2, tzinfo=UTC), SEEN)
    assert DailyQuota.from_json(quota.to_json()) == quota
    assert DailyQuota.from_json({"limit": "x"}) is None
