"""Every fault the stand-in injects: throttling, server errors, slow and malformed answers."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.errors import AuthorizationFailed, ConfigurationError, TransientError
from hitpay.conftest import FAST, SourceFactory, split, window
from plugins.hitpay_source.client import HitPayClient
from plugins.hitpay_source.settings import ClientSettings
from plugins.hitpay_source.testing.standin import HitPayStandIn, Unprocessable

AT = datetime.fromisoformat("2026-03-04T12:00:00+08:00")
WINDOW = window(AT - timedelta(hours=1), AT + timedelta(hours=1))


def _statuses(standin: HitPayStandIn) -> list[int]:
    return [r.status for r in standin.requests]


@pytest.mark.vendor_fact("hitpay.rate_limit")
def test_throttling_is_retried_and_every_attempt_counted(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    charge = standin.add_charge(created_at=AT)["id"]
    standin.fail_next(2, status=429)
    source, calls = open_source()

    charges, _, _ = split(list(source.fetch(WINDOW, {})))

    assert [c.source_id for c in charges] == [charge]
    assert _statuses(standin)[:3] == [429, 429, 200]
    assert calls.total == len(standin.requests) == 5  # 3 for the charges page, refunds, payouts


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(
    standin: HitPayStandIn, open_source: SourceFactory, status: int
) -> None:
    standin.add_charge(created_at=AT)
    standin.fail_next(2, status=status)
    source, _ = open_source()

    charges, _, _ = split(list(source.fetch(WINDOW, {})))

    assert len(charges) == 1 and _statuses(standin)[:3] == [status, status, 200]


def test_persistent_server_errors_end_in_a_transient_error(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    standin.fail_next(10, status=500)
    source, calls = open_source(attempts=3)

    with pytest.raises(TransientError, match="kept answering 500 after 3 attempts"):
        list(source.fetch(WINDOW, {}))
    assert calls.total == 3 == len(standin.requests)


def test_retry_after_is_honoured_and_backoff_grows(standin: HitPayStandIn) -> None:
    slept: list[float] = []
    settings = ClientSettings(api_url=standin.url, backoff_factor=0.5, attempts=5)
    client = HitPayClient(standin.api_key, settings, sleep=slept.append)
    standin.fail_next(1, status=429, retry_after="7")
    client.check_key()
    assert slept == [7.0]

    slept.clear()
    standin.fail_next(3, status=503)
    client.check_key()
    assert slept == [1.0, 2.0]  # urllib3: no wait before the first retry, then doubling


def test_a_huge_retry_after_is_capped(standin: HitPayStandIn) -> None:
    slept: list[float] = []
    settings = ClientSettings(api_url=standin.url, retry_after_max=60)
    client = HitPayClient(standin.api_key, settings, sleep=slept.append)
    standin.fail_next(1, status=429, retry_after="86400")
    client.check_key()
    assert slept == [60.0]


def test_a_slow_answer_times_out_and_is_retried(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    charge = standin.add_charge(created_at=AT)["id"]
    standin.slow_next(1)  # held until released: the client gives up first
    source, calls = open_source(read_timeout=0.2)

    charges, _, _ = split(list(source.fetch(WINDOW, {})))

    assert [c.source_id for c in charges] == [charge]
    assert calls.total == 4  # timed-out attempt + retry + refunds listing + payouts listing


def test_answers_that_stay_slow_end_in_a_transient_error(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    standin.slow_next(4)
    source, calls = open_source(read_timeout=0.2, attempts=2)

    with pytest.raises(TransientError, match="did not answer"):
        list(source.fetch(WINDOW, {}))
    health = source.health()
    assert not health.ok and not health.authorization_failed and "did not answer" in health.detail
    assert calls.total == 4


def test_an_unreachable_host_is_a_transient_error(open_source: SourceFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source, calls = open_source(api_url=f"http://127.0.0.1:{port}", attempts=2)

    with pytest.raises(TransientError, match=f"did not answer at 127.0.0.1:{port} after 2"):
        list(source.fetch(WINDOW, {}))
    assert calls.total == 2


@pytest.mark.parametrize("body", ["truncated", "html", "empty", "not_json"])
def test_a_malformed_body_fails_the_run_cleanly_and_the_next_run_recovers(
    standin: HitPayStandIn, open_source: SourceFactory, body: str
) -> None:
    charge = standin.add_charge(created_at=AT)["id"]
    standin.malformed_next(1, body)
    source, _ = open_source()
    state: dict[str, object] = {}

    with pytest.raises(TransientError, match="not valid JSON"):
        list(source.fetch(WINDOW, state))
    charges, _, _ = split(list(source.fetch(WINDOW, state)))

    assert [c.source_id for c in charges] == [charge]


@pytest.mark.vendor_fact("hitpay.charges.per_page_max")
def test_a_refused_page_size_falls_back_to_the_default(open_source: SourceFactory) -> None:
    with HitPayStandIn(max_per_page=50) as hitpay:
        ids = {hitpay.add_charge(created_at=AT + timedelta(seconds=i))["id"] for i in range(30)}
        source, _ = open_source(api_url=hitpay.url, api_key=hitpay.api_key, per_page=100)

        charges, _, _ = split(list(source.fetch(WINDOW, {})))

        assert {c.source_id for c in charges} == ids
        sizes = [r.param("per_page") for r in hitpay.requests]
        assert sizes[:3] == ["100", "25", "25"] and hitpay.requests[0].status == 422


@pytest.mark.vendor_fact("hitpay.errors.shapes")
def test_other_refusals_name_hitpays_reason(standin: HitPayStandIn) -> None:
    client = HitPayClient(standin.api_key, ClientSettings(api_url=standin.url, **FAST))
    with pytest.raises(ConfigurationError, match="date from does not match the format"):
        client.get("charges", [("date_from", "04/03/2026")])


@pytest.mark.vendor_fact("hitpay.auth.errors", "hitpay.auth.header")
def test_a_wrong_key_is_refused_with_the_reason(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    wrong = "f" * 64
    source, calls = open_source(api_key=wrong)

    with pytest.raises(AuthorizationFailed) as caught:
        list(source.fetch(WINDOW, {}))

    assert caught.value.message == (
        "HitPay rejected the API key (401): check the key and whether it is a sandbox or live key"
    )
    assert caught.value.side == "source" and wrong not in str(caught.value)
    assert calls.total == 1  # 401 is not retried
    health = source.health()
    assert health.authorization_failed and not health.ok and "(401)" in health.detail


def test_the_business_id_is_a_fingerprint_never_the_key(
    standin: HitPayStandIn, open_source: SourceFactory
) -> None:
    source, _ = open_source()
    other, _ = open_source(api_key="0" * 64)
    account = source.account_id()
    assert account == source.account_id() != other.account_id()
    assert account.startswith("key-sha256:") and standin.api_key not in account
    assert standin.api_key not in repr(source) and standin.api_key not in repr(source.client)
    assert source.health().ok


def test_refunding_through_the_standin_checks_the_amount(standin: HitPayStandIn) -> None:
    charge = standin.add_charge(created_at=AT, amount=Decimal("10.00"))["id"]
    standin.refund(charge, Decimal("4.00"))

    with pytest.raises(Unprocessable, match=r"may not be greater than 6\.00"):
        standin.refund(charge, Decimal("6.01"))
