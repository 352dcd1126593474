"""Connecting a Zoho Books organization once Zoho has granted access.

`ledgersync zoho connect` (loopback redirect or Self Client code) and the web page (its own
OAuth callback) both end here: list the organizations the grant reaches, then
:func:`attach_organization` stores the chosen one with the tokens, encrypted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from core.api import (
    AuthorizationFailed,
    CallCounter,
    ConfigurationError,
    ConnectionInfo,
    LedgersyncError,
    attach_destination,
)
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.clock import SystemClock
from plugins.zoho_books.datacenters import is_known_accounts_root
from plugins.zoho_books.limiter import SlidingWindowLimiter
from plugins.zoho_books.oauth import OAuthClient, TokenGrant
from plugins.zoho_books.tokens import StaticToken

__all__ = [
    "OrganizationChoice",
    "accounts_server",
    "attach_organization",
    "organizations",
    "reachable",
    "revoke_quietly",
]


@dataclass(frozen=True, slots=True)
class OrganizationChoice:
    """What the operator chose, and how the connection reaches Zoho."""

    datacenter: str
    client_id: str
    client_secret: str
    requests_per_minute: int = 100
    unique_field: str | None = None
    exchange_rates: str = "zoho"  # where a foreign-currency document's rate comes from


def accounts_server(configured: str, announced: str | None) -> str:
    """Zoho names the user's own accounts server in the redirect; trust only a real one."""
    if not announced or announced.rstrip("/") == configured:
        return configured
    if is_known_accounts_root(announced):
        return announced.rstrip("/")
    raise AuthorizationFailed(
        f"the redirect named an unknown accounts server {announced!r}; the code was not used.",
        "Run the command again; give --accounts-url only for a server you trust.",
        side="destination",
    )


def organizations(api_url: str, grant: TokenGrant) -> list[dict[str, Any]]:
    """The Zoho Books organizations this grant reaches."""
    clock = SystemClock()
    client = BooksClient(
        f"{api_url}/books/v3",
        "",
        StaticToken(grant.access_token),
        calls=CallCounter("destination"),
        limiter=SlidingWindowLimiter(100, clock),
        clock=clock,
    )
    answer = client.request("GET", "/organizations", with_organization=False)
    return list(answer.get("organizations") or [])


def reachable(found: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The organization ``wanted`` among ``found``, or a ConfigurationError naming those."""
    by_id = {str(org["organization_id"]): org for org in found}
    if not by_id:
        raise ConfigurationError(
            "this Zoho account has no Zoho Books organization.",
            "Create one in Zoho Books first, then connect again.",
        )
    if wanted not in by_id:
        known = ", ".join(f"{o['organization_id']} ({o.get('name')})" for o in found)
        raise ConfigurationError(
            f"organization {wanted} is not reachable with this authorization.",
            f"Reachable: {known}.",
        )
    return by_id[wanted]


def attach_organization(
    host: Any,
    name: str,
    *,
    oauth: OAuthClient,
    grant: TokenGrant,
    api_url: str,
    organization: dict[str, Any],
    choice: OrganizationChoice,
) -> ConnectionInfo:
    """Point connection ``name`` at ``organization`` with the grant's tokens (encrypted).

    On any failure the unused refresh token is revoked, so none is left behind."""
    refresh_token = str(grant.refresh_token)
    org_id = str(organization["organization_id"])
    config: dict[str, Any] = {
        "datacenter": choice.datacenter,
        "accounts_url": oauth.accounts_url,
        "api_url": api_url,
        "organization_id": org_id,
        "organization_name": organization.get("name"),
        "currency_code": organization.get("currency_code"),
        "client_id": choice.client_id,
        "requests_per_minute": choice.requests_per_minute,
    }
    if choice.unique_field:
        config["unique_field"] = choice.unique_field
    config["exchange_rates"] = choice.exchange_rates
    try:
        return attach_destination(
            host,
            name,
            destination="zoho_books",
            organization=org_id,
            config=config,
            secrets={
                "client_secret": choice.client_secret,
                "refresh_token": refresh_token,
                "access_token": grant.access_token,
                "access_token_expires_at": grant.expires_at.isoformat(),
            },
        )
    except LedgersyncError:
        revoke_quietly(oauth, refresh_token)
        raise


def revoke_quietly(oauth: OAuthClient, refresh_token: str) -> None:
    """Revoke an unused refresh token; a failure to revoke changes nothing for the caller."""
    with contextlib.suppress(LedgersyncError):
        oauth.revoke(refresh_token)
