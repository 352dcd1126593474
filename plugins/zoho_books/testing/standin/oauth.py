"""The stand-in's accounts server: clients, grant codes, refresh and access tokens.

Rules kept: grant codes live 60 seconds and work once; access tokens live an hour; at most 10
access tokens per refresh token in 10 minutes (then "Access Denied"); at most 20 refresh
tokens per client (the 21st silently revokes the oldest); a revoked refresh token answers
``invalid_code`` with HTTP 200; an unknown client answers ``invalid_client`` with HTTP 200
(what a wrong datacenter looks like); revoking an unknown token answers HTTP 400.

``OAuthVariant`` switches each answer the public evidence leaves open (docs/vendor-facts.md).
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from plugins.zoho_books.testing.standin.errors import ApiError

__all__ = ["AccessToken", "OAuthServer", "OAuthVariant"]

GRANT_LIFETIME = timedelta(seconds=60)
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_WINDOW = timedelta(minutes=10)
REFRESHES_PER_WINDOW = 10
REFRESH_TOKENS_PER_CLIENT = 20


@dataclass
class OAuthVariant:
    """``api_domain``: the token answers carry it (``"sent"``), leave it out (``"absent"``) or
    end it with a slash (``"slash"``). ``error_status``: the HTTP status of ``invalid_code`` /
    ``invalid_client`` answers (200 or 400). ``throttle_status``: that of "Access Denied".
    ``refresh_token_on_exchange``: a code exchange returns a refresh token. ``expires``:
    ``"seconds"`` (``expires_in: 3600``), ``"milliseconds"`` (``expires_in: 3600000`` with
    ``expires_in_sec: 3600``, as older answers did) or ``"absent"``."""

    api_domain: str = "sent"
    error_status: int = 200
    throttle_status: int = 400
    refresh_token_on_exchange: bool = True
    expires: str = "seconds"

    def token_fields(self, api_domain: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"token_type": "Bearer"}
        if self.api_domain != "absent":
            fields["api_domain"] = api_domain + ("/" if self.api_domain == "slash" else "")
        seconds = int(ACCESS_LIFETIME.total_seconds())
        if self.expires == "seconds":
            fields["expires_in"] = seconds
        elif self.expires == "milliseconds":
            fields |= {"expires_in": seconds * 1000, "expires_in_sec": seconds}
        return fields


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: set[str] | None  # None: any loopback http://127.0.0.1:PORT/... URI


@dataclass
class Grant:
    client_id: str
    redirect_uri: str | None
    scope: tuple[str, ...]
    issued_at: datetime
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    scope: tuple[str, ...]
    issued_at: datetime
    revoked: bool = False
    grants: deque[datetime] = field(default_factory=deque)


@dataclass
class AccessToken:
    token: str
    refresh_token: str
    scope: tuple[str, ...]
    expires_at: datetime


class OAuthServer:
    """Token state. The caller holds the stand-in's lock and passes the stand-in's now."""

    def __init__(self, accounts_url: str, api_domain: str) -> None:
        self.accounts_url = accounts_url
        self.api_domain = api_domain
        self.clients: dict[str, Client] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.deny_consent = False
        self.variant = OAuthVariant()

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: set[str] | None = None
    ) -> None:
        self.clients[client_id] = Client(client_id, client_secret, redirect_uris)

    # -- authorize (the browser step) ------------------------------------------------------

    def _redirect_allowed(self, client: Client, redirect_uri: str) -> bool:
        if client.redirect_uris is not None:
            return redirect_uri in client.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")

    def authorize(self, query: dict[str, str], now: datetime) -> str:
        """The URL the user's browser is redirected to after consenting."""
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise ApiError(400, 0, "Invalid Client: no client with this id in this datacenter.")
        redirect_uri = query.get("redirect_uri", "")
        if not self._redirect_allowed(client, redirect_uri):
            raise ApiError(400, 0, "Invalid Redirect Uri: it is not registered for the client.")
        if query.get("response_type") != "code":
            raise ApiError(400, 0, "Invalid response_type: only code is supported.")
        scope = tuple(s for s in query.get("scope", "").split(",") if s)
        if not scope:
            raise ApiError(400, 0, "Invalid scope: at least one scope is required.")
        answer: dict[str, str] = {}
        if self.deny_consent:
            answer["error"] = "access_denied"
        else:
            code = self.issue_grant(client.client_id, scope, now, redirect_uri)
            answer.update({"code": code, "location": "us", "accounts-server": self.accounts_url})
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(answer)}"

    def issue_grant(
        self, client_id: str, scope: tuple[str, ...], now: datetime, redirect_uri: str | None
    ) -> str:
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.grants[code] = Grant(client_id, redirect_uri, scope, now)
        return code

    # -- the token endpoint ----------------------------------------------------------------

    def token(self, form: dict[str, str], now: datetime) -> tuple[int, dict[str, Any]]:
        refused = self.variant.error_status
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            return refused, {"error": "invalid_client"}
        if form.get("client_secret") != client.client_secret:
            return refused, {"error": "invalid_client_secret"}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(client, form, now)
        if grant_type == "refresh_token":
            return self._refresh(client, form, now)
        return 400, {"error": "unsupported_grant_type"}

    def _exchange(
        self, client: Client, form: dict[str, str], now: datetime
    ) -> tuple[int, dict[str, Any]]:
        grant = self.grants.get(form.get("code", ""))
        if (
            grant is None
            or grant.used
            or grant.client_id != client.client_id
            or now - grant.issued_at > GRANT_LIFETIME
        ):
            return self.variant.error_status, {"error": "invalid_code"}
        if grant.redirect_uri is not None and form.get("redirect_uri") != grant.redirect_uri:
            return 200, {"error": "invalid_redirect_uri"}
        grant.used = True
        refresh = RefreshToken(f"1000.{secrets.token_hex(20)}", client.client_id, grant.scope, now)
        self.refresh_tokens[refresh.token] = refresh
        self._forget_oldest(client.client_id)
        access = self._access(refresh, now)
        answer = {"access_token": access.token, **self.variant.token_fields(self.api_domain)}
        if self.variant.refresh_token_on_exchange:
            answer["refresh_token"] = refresh.token
        return 200, answer

    def _forget_oldest(self, client_id: str) -> None:
        live = sorted(
            (t for t in self.refresh_tokens.values() if t.client_id == client_id and not t.revoked),
            key=lambda t: t.issued_at,
        )
        for token in live[:-REFRESH_TOKENS_PER_CLIENT]:
            self.revoke(token.token)

    def _refresh(
        self, client: Client, form: dict[str, str], now: datetime
    ) -> tuple[int, dict[str, Any]]:
        refresh = self.refresh_tokens.get(form.get("refresh_token", ""))
        if refresh is None or refresh.revoked or refresh.client_id != client.client_id:
            return self.variant.error_status, {"error": "invalid_code"}
        while refresh.grants and now - refresh.grants[0] >= REFRESH_WINDOW:
            refresh.grants.popleft()
        if len(refresh.grants) >= REFRESHES_PER_WINDOW:
            return self.variant.throttle_status, {
                "error": "Access Denied",
                "error_description": "You have made too many requests continuously. "
                "Please try again after some time.",
                "status": "failure",
            }
        access = self._access(refresh, now)
        return 200, {"access_token": access.token, **self.variant.token_fields(self.api_domain)}

    def _access(self, refresh: RefreshToken, now: datetime) -> AccessToken:
        refresh.grants.append(now)
        access = AccessToken(
            f"1000.{secrets.token_hex(24)}", refresh.token, refresh.scope, now + ACCESS_LIFETIME
        )
        self.access_tokens[access.token] = access
        return access

    def revoke_answer(self, token: str) -> tuple[int, dict[str, Any]]:
        """``POST /oauth/v2/token/revoke?token=``: success, or 400 for a token it never issued."""
        if token not in self.refresh_tokens and token not in self.access_tokens:
            return 400, {"error": "invalid_token"}
        self.revoke(token)
        return 200, {"status": "success"}

    def revoke(self, token: str) -> None:
        refresh = self.refresh_tokens.get(token)
        if refresh is not None:
            refresh.revoked = True
            for access in [a for a in self.access_tokens.values() if a.refresh_token == token]:
                del self.access_tokens[access.token]
        self.access_tokens.pop(token, None)

    # -- API calls ---------------------------------------------------------------------

    def check(self, header: str | None, now: datetime, module: str, operation: str) -> None:
        """Raise the API's 401 unless ``header`` carries a live token with the scope."""
        if not header or not header.startswith("Zoho-oauthtoken "):
            raise ApiError(401, 14, "Invalid OAuth token.")
        access = self.access_tokens.get(header.removeprefix("Zoho-oauthtoken ").strip())
        if access is None or now >= access.expires_at:
            raise ApiError(401, 57, "You are not authorized to perform this operation")
        if not _allows(access.scope, module, operation):
            raise ApiError(401, 57, "You are not authorized to perform this operation")


def _allows(scope: tuple[str, ...], module: str, operation: str) -> bool:
    wanted = {
        "zohobooks.fullaccess.all",
        f"zohobooks.{module}.all".lower(),
        f"zohobooks.{module}.{operation}".lower(),
    }
    return any(s.lower() in wanted for s in scope)
