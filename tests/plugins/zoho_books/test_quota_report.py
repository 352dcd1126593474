"""The client reports the daily quota of every answer (X-Rate-Limit-Limit/-Remaining/-Reset)
to the host's call counter, which stores the last one for the connection (issue 17)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.store.repository import CallCounter
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.testing.standin import ZohoBooksStandIn
from zoho_books.helpers import Build


@pytest.mark.vendor_fact("zoho.rate_limit.headers_daily")
@pytest.mark.parametrize("reset", [None, 34881])
def test_every_answer_s_quota_reaches_the_call_counter(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, reset: int | None
) -> None:
    zoho.quota_reset_seconds = reset
    org = zoho.create_organization("Quota Pte Ltd", "SGD", daily_limit=7500)
    calls = CallCounter("destination")
    client = build(calls).client
    client.organization_id = org.organization_id
    zoho.spend(org.organization_id, 100)  # other apps
    for _ in range(3):
        client.get("/items")
    seen = calls.last_quota
    assert seen is not None
    assert (seen.limit, seen.remaining) == (7500, 7500 - 100 - 3)
    midnight = (zoho.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    expected = midnight if reset is None else clock.now() + timedelta(seconds=reset)
    assert abs(seen.resets_at - expected) <= timedelta(seconds=2)
    assert calls.quota == seen  # kept until the host flushes it into the store


def test_without_the_headers_nothing_is_reported(build: Build, zoho: ZohoBooksStandIn) -> None:
    zoho.send_rate_limit_headers = False
    calls = CallCounter("destination")
    client = build(calls).client
    client.get("/items")
    assert calls.last_quota is None
