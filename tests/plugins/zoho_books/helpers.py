"""Helpers for the Zoho Books tests: a tiny source plugin and a connection on the stand-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from core import hookimpl
from core.connections.setup import attach_destination, connect_source
from core.contracts import Health, PluginContext
from core.host import Host
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import (
    ALL_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SeededOrganization,
    ZohoBooksStandIn,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
# The read timeout of the one client that meets a "timeout" fault (the stand-in holds that
# request until it stops); every other client waits as long as a real one would.
SHORT_TIMEOUT = 1.0
CONNECTION = "shop"


class LedgerTestSource:
    """The smallest source there is: the connection's source side exists, nothing is fetched."""

    name: ClassVar[str] = "ledger_test_source"
    display_name: ClassVar[str] = "Test Gateway"
    channels: ClassVar[Mapping[str, str]] = {}

    def __init__(self, context: PluginContext) -> None:
        self.context = context

    def account_id(self) -> str:
        return "business-1"

    def fetch(self, window: Any, state: Any) -> Iterator[Any]:
        return iter(())

    def health(self) -> Health:
        return Health(ok=True)


class TestSourcePlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(LedgerTestSource)


def add_source_connection(host: Host, name: str = CONNECTION, account: str = "business-1") -> None:
    if host.plugins.manager.get_plugin("ledger_test_source") is None:
        host.plugins.register(TestSourcePlugin(), name="ledger_test_source")
    connect_source(
        host,
        name,
        source=LedgerTestSource.name,
        source_account=account,
        config={},
        secrets={},
        timezone="Asia/Singapore",
    )


def attach_standin(
    host: Host,
    zoho: ZohoBooksStandIn,
    org: SeededOrganization,
    name: str = CONNECTION,
    scope: tuple[str, ...] = ALL_SCOPES,
    **config: Any,
) -> None:
    """What `ledgersync zoho connect NAME --grant-code ...` leaves behind."""
    tokens = zoho.tokens(scope)
    expires = datetime.fromtimestamp(
        zoho.now().timestamp() + int(tokens["expires_in"]), UTC
    ).isoformat()
    attach_destination(
        host,
        name,
        destination="zoho_books",
        organization=org.organization_id,
        config={
            "datacenter": "com",
            "accounts_url": zoho.accounts_url,
            "api_url": tokens["api_domain"],
            "organization_id": org.organization_id,
            "client_id": DEFAULT_CLIENT_ID,
            "requests_per_minute": 100,
            "timeout_seconds": 30,
            **config,
        },
        secrets={
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
            "access_token": tokens["access_token"],
            "access_token_expires_at": expires,
        },
    )


Build = Callable[..., ZohoBooksDestination]
