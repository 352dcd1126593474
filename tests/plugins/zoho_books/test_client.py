"""The Books API client against the stand-in: every limit and error code, retries, counting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.contracts import AccountSettings, DeliveryContext
from core.errors import (
    AuthorizationFailed,
    DailyLimitReached,
    DeliveryUncertain,
    DocumentRejected,
    TransientError,
)
from core.host import Host
from core.store.repository import CallCounter
from plugins.zoho_books.client import BooksRejected, next_utc_midnight
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.documents import sale
from zoho_books.helpers import SHORT_TIMEOUT, Build, add_source_connection, attach_standin

# -- per-minute limit (44) -------------------------------------------------------------


@pytest.mark.vendor_fact("zoho.rate_limit.per_minute_44")
def test_code_44_waits_for_the_next_window_then_goes_on(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    zoho.per_minute = 3
    client = build().client
    for _ in range(5):
        client.get("/items")
    assert zoho.codes().count(44) == 1
    # It waited exactly until the stand-in's window turned (X-Rate-Limit-Reset), not a guess.
    assert clock.slept == [60.0]
    assert zoho.codes()[-1] == 0


@pytest.mark.vendor_fact("zoho.rate_limit.per_minute_44")
def test_code_44_without_a_reset_header_waits_a_whole_window(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    zoho.per_minute = 2
    zoho.send_rate_limit_headers = False
    zoho.advance(30)  # mid-window: a reset header would have said 30
    client = build().client
    for _ in range(3):
        client.get("/items")
    assert clock.slept == [60.0]


@pytest.mark.vendor_fact("zoho.rate_limit.per_minute_44")
def test_code_44_that_never_clears_becomes_a_transient_error(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    zoho.per_minute = 0
    with pytest.raises(TransientError, match="per-minute limit") as caught:
        build().client.get("/items")
    assert not caught.value.sent
    assert zoho.codes() == [44, 44, 44, 44]


def test_the_client_side_limiter_keeps_under_the_configured_rate(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    client = build(requests_per_minute=5).client
    for _ in range(12):
        client.get("/items")
    assert 44 not in zoho.codes()
    times = [r.at for r in zoho.requests]
    for i, first in enumerate(times):
        within = [t for t in times[i:] if t - first < timedelta(seconds=60)]
        assert len(within) <= 5
    assert sum(clock.slept) == pytest.approx(120.0)


# -- daily plan limit (45) ----------------------------------------------------------------


@pytest.mark.vendor_fact("zoho.rate_limit.daily_45")
def test_code_45_pauses_the_run_until_the_next_utc_day_and_loses_nothing(
    host: Host,
    secret_key: str,
    zoho: ZohoBooksStandIn,
    clock: ManualClock,
    build: Build,
    settings: AccountSettings,
) -> None:
    zoho.send_rate_limit_headers = False  # only code 45 tells (the headers may be missing)
    small = zoho.create_organization("Tiny Pte Ltd", "SGD", plan="free", daily_limit=6)
    add_source_connection(host, "tiny", account="business-2")
    attach_standin(host, zoho, small, "tiny")
    tiny = small.account_settings()
    destination = build(name="tiny")
    docs = sale("1")
    remote: dict[str, str] = {}
    with pytest.raises(DailyLimitReached) as caught:
        for name in ("invoice", "payment", "expense"):
            document = docs[name]
            remote[document.key] = destination.deliver(document, DeliveryContext(tiny, remote))
    error = caught.value
    assert error.message == "paused: daily API limit reached"
    assert error.resume_after == datetime(2026, 1, 16, tzinfo=UTC)
    assert "exceeded the maximum call rate limit of 6" in error.hint
    assert 45 in zoho.codes()
    assert not isinstance(error, TransientError)  # refused before anything was recorded

    zoho.advance((error.resume_after - zoho.now()).total_seconds())
    for name in ("invoice", "payment", "expense"):
        document = docs[name]
        if document.key not in remote:
            remote[document.key] = build(name="tiny").deliver(
                document, DeliveryContext(tiny, remote)
            )
    books = zoho.books(small.organization_id)
    assert [len(books[s]) for s in ("invoices", "payments", "expenses")] == [1, 1, 1]
    assert settings != tiny


@pytest.mark.vendor_fact("zoho.rate_limit.headers_daily", "zoho.rate_limit.daily_reset")
@pytest.mark.parametrize("reset", [None, 34881])  # to UTC midnight; as seen live (Weble #38)
def test_remaining_zero_pauses_before_the_next_call_until_the_reset(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, reset: int | None
) -> None:
    """The 5th answer says X-Rate-Limit-Remaining 0: the client asks no more (no code 45 is
    ever provoked) and resumes X-Rate-Limit-Reset seconds later."""
    zoho.quota_reset_seconds = reset
    small = zoho.create_organization("Tiny Pte Ltd", "SGD", plan="free", daily_limit=5)
    client = build().client
    client.organization_id = small.organization_id
    for _ in range(5):
        answer = client.get("/items")
        assert answer["code"] == 0
    with pytest.raises(DailyLimitReached) as caught:
        client.get("/items")
    assert zoho.codes() == [0] * 5  # the 6th request was never sent
    expected = (
        datetime(2026, 1, 16, tzinfo=UTC)
        if reset is None
        else zoho.now() + timedelta(seconds=reset)
    )
    assert caught.value.resume_after == expected
    assert "X-Rate-Limit-Remaining 0" in caught.value.hint
    clock.advance((expected - clock.now()).total_seconds())
    zoho.advance((expected - zoho.now()).total_seconds())
    if reset is None:
        assert client.get("/items")["code"] == 0  # a new day
    else:  # the stand-in's own day turns at UTC midnight: the client asks again, and waits
        with pytest.raises(DailyLimitReached):
            client.get("/items")
        assert zoho.codes() == [0] * 5 + [45]


@pytest.mark.vendor_fact("zoho.rate_limit.headers_daily")
def test_a_quota_other_than_a_plan_s_is_read_from_the_headers(
    build: Build, zoho: ZohoBooksStandIn
) -> None:
    raised = zoho.create_organization("Big Pte Ltd", "SGD", daily_limit=7500)
    answer = requests.get(
        f"{zoho.api_url}/books/v3/items",
        params={"organization_id": raised.organization_id},
        headers={"Authorization": f"Zoho-oauthtoken {zoho.tokens()['access_token']}"},
        timeout=10,
    )
    assert answer.headers["X-Rate-Limit-Limit"] == "7500"
    assert answer.headers["X-Rate-Limit-Remaining"] == "7499"
    client = build().client
    client.organization_id = raised.organization_id
    for _ in range(3):  # many calls left: nothing pauses
        assert client.get("/items")["code"] == 0


@pytest.mark.vendor_fact("zoho.rate_limit.undocumented_429")
@pytest.mark.parametrize("code", [43, None])
def test_an_undocumented_429_backs_off_a_window_and_goes_on(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, code: int | None
) -> None:
    zoho.faults.throttle(code=code, times=2)
    assert build().client.get("/items")["code"] == 0
    assert clock.slept == [60.0, 60.0]


def test_next_utc_midnight_is_computed_in_utc() -> None:
    late = datetime(2026, 1, 15, 23, 30, tzinfo=UTC).astimezone()
    assert next_utc_midnight(late) == datetime(2026, 1, 16, tzinfo=UTC)


# -- concurrency limit (1070) --------------------------------------------------------------


def _hold_one_request(
    zoho: ZohoBooksStandIn, build: Build, organization: str
) -> tuple[threading.Thread, list[Exception]]:
    """Keep one request of ``organization`` in flight (another program using it)."""
    errors: list[Exception] = []
    other = build(name=organization).client
    zoho.faults.hold(method="GET", path="^/settings/currencies$")

    def run() -> None:
        try:
            other.get("/settings/currencies")
        except Exception as error:  # pragma: no cover - reported by the test
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    assert zoho.faults.holding.acquire(timeout=5)
    return thread, errors


@pytest.mark.vendor_fact("zoho.rate_limit.concurrency_1070")
def test_code_1070_backs_off_briefly_and_retries(
    host: Host, secret_key: str, zoho: ZohoBooksStandIn, clock: ManualClock, build: Build
) -> None:
    busy = zoho.create_organization("Busy Pte Ltd", concurrency_limit=1)
    add_source_connection(host, "busy", account="business-3")
    attach_standin(host, zoho, busy, "busy")
    thread, errors = _hold_one_request(zoho, build, "busy")

    def other_program_finishes(seconds: float) -> None:
        zoho.faults.release()
        thread.join(timeout=5)

    clock.on_sleep = other_program_finishes
    build(name="busy").client.get("/items")
    assert clock.slept == [1.0]
    assert 1070 in zoho.codes() and not errors


@pytest.mark.vendor_fact("zoho.rate_limit.concurrency_1070")
def test_code_1070_that_persists_becomes_a_transient_error(
    host: Host, secret_key: str, zoho: ZohoBooksStandIn, clock: ManualClock, build: Build
) -> None:
    busy = zoho.create_organization("Busy Pte Ltd", concurrency_limit=1)
    add_source_connection(host, "busy", account="business-3")
    attach_standin(host, zoho, busy, "busy")
    thread, _ = _hold_one_request(zoho, build, "busy")
    try:
        with pytest.raises(TransientError, match="1070"):
            build(name="busy").client.get("/items")
        assert clock.slept == [1.0, 2.0, 4.0]
    finally:
        zoho.faults.release()
        thread.join(timeout=5)


# -- server errors and network trouble ---------------------------------------------------


@pytest.mark.parametrize("fault", ["fail", "timeout", "drop_after_commit"])
def test_a_get_is_retried_with_backoff(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, fault: str
) -> None:
    getattr(zoho.faults, fault)(method="GET", path="^/items$")
    rows = build(timeout_seconds=SHORT_TIMEOUT).client.list_all("/items", "items")
    assert len(rows) == 2
    assert clock.slept == [1.0]


def test_a_get_that_keeps_failing_gives_up_as_transient(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    zoho.faults.fail(method="GET", path="^/items$", times=10)
    with pytest.raises(TransientError, match="failed 5 times"):
        build().client.get("/items")
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize("fault", ["fail", "timeout", "drop_after_commit"])
def test_a_post_is_never_retried_blindly(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, fault: str
) -> None:
    getattr(zoho.faults, fault)(method="POST", path="^/contacts$")
    with pytest.raises(DeliveryUncertain) as caught:
        build(timeout_seconds=SHORT_TIMEOUT).client.post("/contacts", {"contact_name": "Walk-in"})
    assert caught.value.sent
    assert len(zoho.api_requests("POST", "/contacts")) == 1
    assert clock.slept == []


@pytest.mark.vendor_fact("zoho.envelope.code_message")
def test_a_refused_document_is_rejected_with_zohos_message(
    build: Build, zoho: ZohoBooksStandIn, settings: AccountSettings, org: SeededOrganization
) -> None:
    destination = build()
    invoice = sale("1")["invoice"]
    context = DeliveryContext(settings, {})
    remote = destination.deliver(invoice, context)
    payment = sale("1")["payment"]
    bad = AccountSettings(
        sales_account=settings.sales_account,
        fee_account=settings.fee_account,
        refund_account=settings.refund_account,
        bank_account=org.sales_account,  # an income account cannot take a deposit
        item=settings.item,
    )
    with pytest.raises(BooksRejected, match="cannot be used as deposit to account") as caught:
        destination.deliver(payment, DeliveryContext(bad, {invoice.key: remote}))
    assert isinstance(caught.value, DocumentRejected)
    assert caught.value.status == 400


# -- authorization (14, 57) ----------------------------------------------------------------


@pytest.mark.vendor_fact("zoho.oauth.access_token_lifetime", "zoho.oauth.refresh")
def test_an_access_token_expired_at_zoho_is_refreshed_once(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    destination = build()
    destination.client.get("/items")
    zoho.advance(3601)  # Zoho's clock says the token is dead; ours does not know yet
    destination.client.get("/items")
    assert zoho.codes() == [0, 57, 0]
    assert destination.tokens.refreshes == 1
    assert [path for _, path, _ in zoho.accounts_requests] == ["/oauth/v2/token"]


def test_a_token_that_is_refused_after_a_refresh_fails_the_connection(
    host: Host, secret_key: str, zoho: ZohoBooksStandIn, clock: ManualClock, build: Build
) -> None:
    org = zoho.create_organization("Scoped Pte Ltd")
    add_source_connection(host, "scoped", account="business-4")
    attach_standin(host, zoho, org, "scoped", scope=("ZohoBooks.invoices.ALL",))
    with pytest.raises(AuthorizationFailed) as caught:
        build(name="scoped").client.get("/items")
    assert caught.value.side == "destination"
    assert "ledgersync zoho connect scoped" in caught.value.hint
    assert zoho.codes() == [57, 57]


def test_the_access_token_is_reused_across_runs_until_near_expiry(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    build().client.get("/items")
    build().client.get("/items")
    assert zoho.accounts_requests == []  # the token from connecting is still good
    clock.advance(56 * 60)  # within five minutes of expiry: refresh before using it
    zoho.advance(56 * 60)
    fresh = build()
    fresh.client.get("/items")
    assert fresh.tokens.refreshes == 1
    build().client.get("/items")  # and the new one is kept for the next run
    assert len(zoho.accounts_requests) == 1


# -- counting ----------------------------------------------------------------------------


def test_every_http_request_is_counted(
    build: Build, zoho: ZohoBooksStandIn, clock: ManualClock, settings: AccountSettings
) -> None:
    calls = CallCounter("destination")
    destination = build(calls)
    zoho.advance(3601)  # forces a token refresh (an accounts-server request) and a 57
    zoho.faults.fail(method="GET", path="^/items$")
    destination.validate(settings)
    remote: dict[str, str] = {}
    for document in sale("1").values():
        remote[document.key] = destination.deliver(document, DeliveryContext(settings, remote))
    assert calls.total == len(zoho.requests) + len(zoho.accounts_requests)
    assert calls.total > 10
