"""Zoho's accounts server: the authorize URL, code exchange, refresh and revoke.

Zoho answers token requests with HTTP 200 or 400 and an ``error`` field in the body, so the
body is read whatever the status. Messages name the problem and the fix, never a token.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests

from core.api import ApiCallCounter, AuthorizationFailed, ConfigurationError, TransientError
from plugins.zoho_books.clock import Clock, SystemClock
from plugins.zoho_books.jsonnum import loads

__all__ = ["SCOPES", "OAuthClient", "TokenGrant"]

SCOPES: tuple[str, ...] = (
    "ZohoBooks.invoices.ALL",
    "ZohoBooks.customerpayments.ALL",
    "ZohoBooks.expenses.ALL",
    "ZohoBooks.creditnotes.ALL",
    "ZohoBooks.contacts.ALL",
    "ZohoBooks.settings.READ",
    "ZohoBooks.accountants.READ",
    "ZohoBooks.accountants.CREATE",  # journals: payout adjustments
    "ZohoBooks.accountants.DELETE",  # rollback of payout adjustments
    "ZohoBooks.banking.READ",  # bank account balances: reconcile
    "ZohoBooks.banking.CREATE",  # fund transfers: payouts
    "ZohoBooks.banking.DELETE",  # rollback of payout transfers
)

RECONNECT_HINT = "Reconnect with `ledgersync zoho connect {name} --datacenter DC`."
_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s\"]+")


class _RedactTokenInUrl(logging.Filter):
    """Zoho's revoke takes the token in the query string and urllib3 logs every request line
    at DEBUG: the token is replaced before the record is written anywhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1<redacted>", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1<redacted>", record.msg)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactTokenInUrl())


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a token request returned. Tokens are hidden from repr."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    api_domain: str | None = None


class _NoCalls:
    def count(self, calls: int = 1) -> None:
        return None


class OAuthClient:
    """One OAuth client (id + secret) at one accounts server."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        calls: ApiCallCounter | None = None,
        timeout: float = 30.0,
        connection_name: str = "NAME",
    ) -> None:
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._session = session or requests.Session()
        self._clock = clock or SystemClock()
        self._calls = calls or _NoCalls()
        self._timeout = timeout
        self._reconnect = RECONNECT_HINT.format(name=connection_name)

    def __repr__(self) -> str:
        return f"OAuthClient({self.accounts_url!r}, client_id={self.client_id!r}, <secret hidden>)"

    def authorize_url(self, redirect_uri: str, state: str, scopes: tuple[str, ...] = SCOPES) -> str:
        query = {
            "scope": ",".join(scopes),
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
        }
        return f"{self.accounts_url}/oauth/v2/auth?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str | None) -> TokenGrant:
        """Trade a grant code (browser redirect or Self Client) for tokens."""
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        body = self._post("/oauth/v2/token", form, during="exchange")
        grant = self._grant(body)
        if not grant.refresh_token:
            raise AuthorizationFailed(
                "Zoho returned no refresh token for this grant code.",
                "Make a new code with access_type=offline (a Self Client code always is).",
                side="destination",
            )
        return grant

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token. Zoho allows 10 per 10 minutes per refresh token: cache it."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        return self._grant(self._post("/oauth/v2/token", form, during="refresh"))

    def revoke(self, token: str) -> None:
        self._post("/oauth/v2/token/revoke", {}, during="revoke", query={"token": token})

    # -- plumbing --------------------------------------------------------------------------

    def _grant(self, body: dict[str, Any]) -> TokenGrant:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise TransientError("Zoho's token answer carried no access token.", "Try again.")
        api_domain = body.get("api_domain")
        return TokenGrant(
            access_token=access,
            expires_at=self._clock.now() + timedelta(seconds=_lifetime_seconds(body)),
            refresh_token=body.get("refresh_token") or None,
            api_domain=api_domain.rstrip("/") if isinstance(api_domain, str) else None,
        )

    def _post(
        self,
        path: str,
        form: dict[str, str],
        *,
        during: str,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.accounts_url}{path}"
        self._calls.count()
        try:
            response = self._session.post(url, data=form, params=query, timeout=self._timeout)
        except requests.RequestException as error:
            raise TransientError(
                f"could not reach Zoho's accounts server {self.accounts_url} "
                f"({type(error).__name__}).",
                "Check the network (and --accounts-url), then try again.",
            ) from None
        try:
            body = loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TransientError(
                f"Zoho's accounts server answered HTTP {response.status_code} without JSON.",
                "Try again later.",
            )
        refusal = body.get("error")
        if refusal:
            raise self._error(str(refusal), during)
        if response.status_code >= 400:
            raise TransientError(f"Zoho's accounts server answered HTTP {response.status_code}.")
        return body

    def _error(self, error: str, during: str) -> Exception:
        if error == "invalid_client":
            return ConfigurationError(
                f"Zoho's accounts server {self.accounts_url} does not know client id "
                f"{self.client_id!r}: wrong datacenter?",
                "Pick the datacenter you log in to (e.g. books.zoho.eu is eu) with --datacenter, "
                "or check the client id.",
            )
        if error == "invalid_client_secret":
            return ConfigurationError(
                "Zoho refused the client secret.",
                "Copy the client secret again from Zoho's API console.",
            )
        if error == "invalid_redirect_uri":
            return ConfigurationError(
                "Zoho refused the redirect URI.",
                "Register http://127.0.0.1:PORT/ for the client and pass --redirect-port PORT.",
            )
        if error == "Access Denied":
            return TransientError(
                "Zoho refuses new access tokens for now (more than 10 in 10 minutes).",
                "Wait about ten minutes, then try again.",
            )
        if error == "invalid_code" and during == "refresh":
            return AuthorizationFailed(
                "Zoho refused the stored refresh token: it was revoked or is no longer valid.",
                self._reconnect,
                side="destination",
            )
        if error == "invalid_code":
            return AuthorizationFailed(
                "Zoho refused the grant code: it expired, was already used, or is wrong.",
                "Grant codes live one to two minutes and work once: make a new one.",
                side="destination",
            )
        return AuthorizationFailed(
            f"Zoho's accounts server refused the {during} request ({error}).",
            self._reconnect,
            side="destination",
        )


def _lifetime_seconds(body: dict[str, Any]) -> int:
    """An access token's lifetime. Zoho answers ``expires_in`` in seconds (3600); older
    answers gave milliseconds there with ``expires_in_sec`` beside it (zoho.oauth.
    expires_in_seconds). ``expires_in_sec`` wins; a value over a day is read as milliseconds;
    a missing or unreadable one means Zoho's hour."""
    for name in ("expires_in_sec", "expires_in"):
        value = body.get(name)
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and value > 0:
            seconds = int(value)
            return seconds // 1000 if seconds > 86_400 else seconds
    return 3600
