"""The access token, cached until shortly before it expires (never a refresh per call)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.api import AuthorizationFailed, Vault
from plugins.zoho_books.clock import Clock
from plugins.zoho_books.oauth import RECONNECT_HINT, OAuthClient

__all__ = [
    "ACCESS_TOKEN",
    "ACCESS_TOKEN_EXPIRES_AT",
    "REFRESH_TOKEN",
    "AccessTokens",
    "StaticToken",
    "TokenSource",
]

REFRESH_TOKEN = "refresh_token"
ACCESS_TOKEN = "access_token"
ACCESS_TOKEN_EXPIRES_AT = "access_token_expires_at"


class AccessTokens:
    """Hands out a valid access token, refreshing it through ``oauth`` only when needed.

    The token and its expiry live in the vault, so a new process reuses the last one.
    """

    def __init__(
        self,
        vault: Vault,
        oauth: OAuthClient,
        clock: Clock,
        *,
        margin: timedelta = timedelta(minutes=5),
        connection_name: str = "NAME",
    ) -> None:
        self._vault = vault
        self._oauth = oauth
        self._clock = clock
        self._margin = margin
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._loaded = False
        self._connection_name = connection_name
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"AccessTokens(expires_at={self._expires_at}, <token hidden>)"

    def current(self) -> str:
        if not self._loaded:
            self._load()
        if self._token and self._expires_at and self._clock.now() < self._expires_at - self._margin:
            return self._token
        return self.refresh()

    def refresh(self) -> str:
        refresh_token = self._vault.get(REFRESH_TOKEN)
        if not refresh_token:
            raise AuthorizationFailed(
                "this connection has no Zoho refresh token.",
                RECONNECT_HINT.format(name=self._connection_name),
                side="destination",
            )
        grant = self._oauth.refresh(refresh_token)
        self.refreshes += 1
        self._token, self._expires_at = grant.access_token, grant.expires_at
        self._vault.set(ACCESS_TOKEN, grant.access_token)
        self._vault.set(ACCESS_TOKEN_EXPIRES_AT, grant.expires_at.isoformat())
        return grant.access_token

    def _load(self) -> None:
        self._loaded = True
        token = self._vault.get(ACCESS_TOKEN)
        expires = self._vault.get(ACCESS_TOKEN_EXPIRES_AT)
        if token and expires:
            try:
                expires_at = datetime.fromisoformat(expires)
            except ValueError:
                return
            if expires_at.tzinfo is not None:
                self._token, self._expires_at = token, expires_at


class TokenSource(Protocol):
    def current(self) -> str: ...

    def refresh(self) -> str: ...


class StaticToken:
    """One access token that cannot be refreshed (used while connecting)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"

    def current(self) -> str:
        return self._token

    def refresh(self) -> str:
        raise AuthorizationFailed(
            "Zoho Books refused the access token it just issued.",
            "Check the scopes of the grant code (ZohoBooks.fullaccess.all works), then retry.",
            side="destination",
        )
