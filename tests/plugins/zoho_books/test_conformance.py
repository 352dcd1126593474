"""Zoho Books passes the destination conformance suite, wired as a plugin author would.

The plugin ships its harness (``plugins.zoho_books.testing.harness``); these few lines start
the stand-in, store what ``ledgersync zoho connect`` would (tokens encrypted in a real store)
and hand the suite a fresh destination per build: the author's path, run once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.contracts import ApiCallCounter
from core.testing import ConformanceStore, DestinationConformance
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.harness import ZohoBooksHarness
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)


class TestZohoBooksConformance(DestinationConformance):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[ZohoBooksHarness]:
        with ZohoBooksStandIn() as standin:
            org = standin.default
            assert org is not None
            tokens = standin.tokens()
            expires = standin.now().timestamp() + int(tokens["expires_in"])
            store = ConformanceStore(
                tmp_path, destination="zoho_books", organization=org.organization_id
            )
            vault = store.vault()
            vault.set("client_secret", DEFAULT_CLIENT_SECRET)
            vault.set("refresh_token", tokens["refresh_token"])
            vault.set("access_token", tokens["access_token"])
            vault.set("access_token_expires_at", datetime.fromtimestamp(expires, UTC).isoformat())
            config = {
                "datacenter": "com",
                "accounts_url": standin.accounts_url,
                "api_url": tokens["api_domain"],
                "organization_id": org.organization_id,
                "client_id": DEFAULT_CLIENT_ID,
            }

            def build(calls: ApiCallCounter) -> ZohoBooksDestination:
                return ZohoBooksDestination(store.context(config, calls))

            yield ZohoBooksHarness(
                standin, org, build, refresh_token=lambda: str(tokens["refresh_token"])
            )
            store.close()
