"""Zoho's accounts server under every answer the public evidence leaves open (docs/vendor-facts.md:
zoho.oauth.*). The stand-in's ``OAuthVariant`` picks the answer; the plugin's OAuthClient must
end the same way under each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from core.errors import AuthorizationFailed, ConfigurationError, TransientError
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.oauth import OAuthClient
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)
from plugins.zoho_books.testing.standin.oauth import OAuthVariant


@pytest.fixture
def oauth(zoho: ZohoBooksStandIn, clock: ManualClock) -> Iterator[OAuthClient]:
    yield OAuthClient(zoho.accounts_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, clock=clock)
    zoho.oauth.variant = OAuthVariant()


@pytest.mark.vendor_fact("zoho.oauth.api_domain")
@pytest.mark.parametrize("api_domain", ["sent", "absent", "slash"])
def test_the_api_domain_is_used_when_given_with_or_without_a_slash(
    oauth: OAuthClient, zoho: ZohoBooksStandIn, api_domain: str
) -> None:
    zoho.oauth.variant = OAuthVariant(api_domain=api_domain)
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.api_domain == (None if api_domain == "absent" else zoho.api_url)
    raw = requests.post(
        f"{zoho.accounts_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": grant.refresh_token,
        },
        timeout=5,
    ).json()
    assert ("api_domain" in raw) is (api_domain != "absent")


@pytest.mark.vendor_fact("zoho.oauth.expires_in_seconds", "zoho.oauth.access_token_lifetime")
@pytest.mark.parametrize("expires", ["seconds", "milliseconds", "absent"])
def test_an_access_token_lives_an_hour_however_its_lifetime_is_written(
    oauth: OAuthClient, zoho: ZohoBooksStandIn, clock: ManualClock, expires: str
) -> None:
    zoho.oauth.variant = OAuthVariant(expires=expires)
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert (grant.expires_at - clock.now()).total_seconds() == 3600
    assert grant.refresh_token
    again = oauth.refresh(grant.refresh_token)
    assert (again.expires_at - clock.now()).total_seconds() == 3600


@pytest.mark.vendor_fact("zoho.oauth.errors_in_body")
@pytest.mark.parametrize("status", [200, 400])
def test_token_errors_are_read_from_the_body_whatever_the_status(
    oauth: OAuthClient, zoho: ZohoBooksStandIn, clock: ManualClock, status: int
) -> None:
    zoho.oauth.variant = OAuthVariant(error_status=status)
    code = zoho.issue_grant_code()
    stranger = OAuthClient(zoho.accounts_url, "1000.OTHERDC", "secret", clock=clock)
    with pytest.raises(ConfigurationError, match="wrong datacenter"):
        stranger.exchange_code(code, None)
    oauth.exchange_code(code, None)
    with pytest.raises(AuthorizationFailed, match="expired, was already used"):
        oauth.exchange_code(code, None)
    with pytest.raises(AuthorizationFailed, match="revoked or is no longer valid"):
        oauth.refresh("1000.never-issued")
    raw = requests.post(
        f"{zoho.accounts_url}/oauth/v2/token",
        data={"grant_type": "refresh_token", "client_id": "1000.OTHERDC", "refresh_token": "x"},
        timeout=5,
    )
    assert (raw.status_code, raw.json()) == (status, {"error": "invalid_client"})


@pytest.mark.vendor_fact("zoho.oauth.refresh_throttle")
@pytest.mark.parametrize("status", [200, 400])
def test_the_refresh_throttle_is_transient_whatever_the_status(
    oauth: OAuthClient, zoho: ZohoBooksStandIn, status: int
) -> None:
    zoho.oauth.variant = OAuthVariant(throttle_status=status)
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.refresh_token
    for _ in range(9):
        oauth.refresh(grant.refresh_token)
    with pytest.raises(TransientError, match="more than 10 in 10 minutes"):
        oauth.refresh(grant.refresh_token)
    zoho.advance(600)
    assert oauth.refresh(grant.refresh_token).access_token


@pytest.mark.vendor_fact("zoho.oauth.refresh_token_only_on_consent")
def test_an_exchange_without_a_refresh_token_is_refused_in_one_line(
    oauth: OAuthClient, zoho: ZohoBooksStandIn
) -> None:
    url = oauth.authorize_url("http://127.0.0.1:5000/callback", "st")
    assert "access_type=offline" in url and "prompt=consent" in url
    zoho.oauth.variant = OAuthVariant(refresh_token_on_exchange=False)
    with pytest.raises(AuthorizationFailed, match="no refresh token") as caught:
        oauth.exchange_code(zoho.issue_grant_code(), None)
    assert "access_type=offline" in caught.value.hint


@pytest.mark.vendor_fact("zoho.oauth.revoke")
def test_revoke_answers_success_and_400_for_a_token_it_never_issued(
    oauth: OAuthClient, zoho: ZohoBooksStandIn
) -> None:
    grant = oauth.exchange_code(zoho.issue_grant_code(), None)
    assert grant.refresh_token
    url = f"{zoho.accounts_url}/oauth/v2/token/revoke"
    unknown = requests.post(url, params={"token": "1000.never-issued"}, timeout=5)
    assert unknown.status_code == 400
    oauth.revoke(grant.refresh_token)  # the plugin's call: success
    with pytest.raises(AuthorizationFailed, match="revoked"):
        oauth.refresh(grant.refresh_token)
