"""OAuth against the stand-in's accounts server: codes, refresh, throttle, revoke, errors."""

from __future__ import annotations

import pytest
import requests

from core.errors import AuthorizationFailed, ConfigurationError, TransientError
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.oauth import OAuthClient, TokenGrant
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)


@pytest.fixture
def oauth(zoho: ZohoBooksStandIn, clock: ManualClock) -> OAuthClient:
    return OAuthClient(zoho.accounts_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, clock=clock)


@pytest.mark.vendor_fact("zoho.oauth.token_exchange")
def test_a_self_client_code_gives_a_refresh_token_and_the_api_domain(
    oauth: OAuthClient, zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.refresh_token and grant.access_token
    assert grant.api_domain == zoho.api_url
    assert (grant.expires_at - clock.now()).total_seconds() == 3600


def test_a_grant_code_works_once(oauth: OAuthClient, zoho: ZohoBooksStandIn) -> None:
    code = zoho.issue_grant_code()
    oauth.exchange_code(code, None)
    with pytest.raises(AuthorizationFailed, match="expired, was already used"):
        oauth.exchange_code(code, None)


def test_a_grant_code_expires_after_a_minute(oauth: OAuthClient, zoho: ZohoBooksStandIn) -> None:
    code = zoho.issue_grant_code()
    zoho.advance(61)
    with pytest.raises(AuthorizationFailed, match="Grant codes live one to two minutes") as caught:
        oauth.exchange_code(code, None)
    assert "live one to two minutes" in caught.value.hint


def test_an_unknown_client_suggests_a_wrong_datacenter(
    zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    stranger = OAuthClient(zoho.accounts_url, "1000.OTHERDC", "secret", clock=clock)
    with pytest.raises(ConfigurationError, match="wrong datacenter"):
        stranger.exchange_code(zoho.issue_grant_code(), None)
    # Zoho says so with HTTP 200: only the body tells.
    answer = requests.post(
        f"{zoho.accounts_url}/oauth/v2/token",
        data={"grant_type": "refresh_token", "client_id": "1000.OTHERDC", "refresh_token": "x"},
        timeout=5,
    )
    assert (answer.status_code, answer.json()) == (200, {"error": "invalid_client"})


def test_a_wrong_client_secret_is_a_configuration_error(
    zoho: ZohoBooksStandIn, clock: ManualClock
) -> None:
    wrong = OAuthClient(zoho.accounts_url, DEFAULT_CLIENT_ID, "not-it", clock=clock)
    with pytest.raises(ConfigurationError, match="client secret"):
        wrong.exchange_code(zoho.issue_grant_code(), None)


def test_more_than_ten_refreshes_in_ten_minutes_are_denied_then_allowed_again(
    oauth: OAuthClient, zoho: ZohoBooksStandIn
) -> None:
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)  # the first access token
    assert grant.refresh_token
    for _ in range(9):
        oauth.refresh(grant.refresh_token)
    with pytest.raises(TransientError, match="more than 10 in 10 minutes"):
        oauth.refresh(grant.refresh_token)
    zoho.advance(600)
    assert isinstance(oauth.refresh(grant.refresh_token), TokenGrant)


def test_a_revoked_refresh_token_fails_the_connection(
    oauth: OAuthClient, zoho: ZohoBooksStandIn
) -> None:
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.refresh_token
    oauth.revoke(grant.refresh_token)
    with pytest.raises(AuthorizationFailed, match="revoked") as caught:
        oauth.refresh(grant.refresh_token)
    assert caught.value.side == "destination"
    assert "ledgersync zoho connect" in caught.value.hint
    answer = requests.post(
        f"{zoho.accounts_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": grant.refresh_token,
        },
        timeout=5,
    )
    assert (answer.status_code, answer.json()) == (200, {"error": "invalid_code"})
    # and the access tokens it made are dead too
    api = requests.get(
        f"{zoho.api_url}/books/v3/organizations",
        headers={"Authorization": f"Zoho-oauthtoken {grant.access_token}"},
        timeout=5,
    )
    assert (api.status_code, api.json()["code"]) == (401, 57)


@pytest.mark.vendor_fact("zoho.oauth.refresh_token_cap")
def test_the_twenty_first_refresh_token_silently_revokes_the_oldest(
    oauth: OAuthClient, zoho: ZohoBooksStandIn
) -> None:
    grants = [oauth.exchange_code(zoho.issue_grant_code(), None) for _ in range(21)]
    assert grants[0].refresh_token and grants[1].refresh_token
    with pytest.raises(AuthorizationFailed):
        oauth.refresh(grants[0].refresh_token)
    oauth.refresh(grants[1].refresh_token)


def test_an_unreachable_accounts_server_is_transient(clock: ManualClock) -> None:
    nowhere = OAuthClient("http://127.0.0.1:9", DEFAULT_CLIENT_ID, "s", clock=clock, timeout=1)
    with pytest.raises(TransientError, match="could not reach"):
        nowhere.refresh("token")


def test_secrets_stay_out_of_reprs(oauth: OAuthClient, zoho: ZohoBooksStandIn) -> None:
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.refresh_token
    for text in (repr(grant), repr(oauth)):
        assert grant.access_token not in text
        assert grant.refresh_token not in text
        assert DEFAULT_CLIENT_SECRET not in text


@pytest.mark.vendor_fact("zoho.oauth.authorize_url")
def test_the_authorize_url_asks_for_offline_access_and_carries_state(oauth: OAuthClient) -> None:
    url = oauth.authorize_url("http://127.0.0.1:5000/callback", "s7ate")
    assert url.startswith(f"{oauth.accounts_url}/oauth/v2/auth?")
    for part in ("access_type=offline", "prompt=consent", "state=s7ate", "response_type=code"):
        assert part in url
    assert "ZohoBooks.invoices.ALL" in requests.utils.unquote(url)
