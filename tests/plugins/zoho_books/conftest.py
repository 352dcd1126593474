"""Fixtures for the Zoho Books plugin: a running stand-in, one injected clock for both sides,
and a real connection in a real store (encrypted vault, cache) pointing at the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.contracts import AccountSettings
from core.host import Host
from core.store.repository import CallCounter
from plugins.zoho_books.client import RetryPolicy
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.helpers import CONNECTION, START, Build, add_source_connection, attach_standin


@pytest.fixture
def zoho() -> Iterator[ZohoBooksStandIn]:
    with ZohoBooksStandIn(start=START, organization_base=800_000_000, hold_seconds=60.0) as standin:
        yield standin


@pytest.fixture
def clock(zoho: ZohoBooksStandIn) -> ManualClock:
    """The plugin's clock; its sleeps move the stand-in's clock too (one timeline)."""
    return ManualClock(START, on_sleep=zoho.advance)


@pytest.fixture
def org(zoho: ZohoBooksStandIn) -> SeededOrganization:
    assert zoho.default is not None
    return zoho.default


@pytest.fixture
def settings(org: SeededOrganization) -> AccountSettings:
    result: AccountSettings = org.account_settings()
    return result


@pytest.fixture
def connected(host: Host, secret_key: str, zoho: ZohoBooksStandIn, org: SeededOrganization) -> str:
    add_source_connection(host)
    attach_standin(host, zoho, org)
    return CONNECTION


@pytest.fixture
def build(host: Host, connected: str, clock: ManualClock) -> Build:
    """A fresh ZohoBooksDestination for the connection, as the host builds one per run."""

    def make(
        calls: CallCounter | None = None,
        *,
        name: str = CONNECTION,
        retry: RetryPolicy | None = None,
        **config: Any,
    ) -> ZohoBooksDestination:
        connection, stored = host._connection_and_config(name, "destination")
        context = host.plugin_context(
            connection, {**stored, **config}, calls or CallCounter("destination")
        )
        return ZohoBooksDestination(context, clock=clock, retry=retry)

    return make
