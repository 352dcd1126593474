"""Zoho Books passes the destination conformance suite against its stand-in."""

from __future__ import annotations

import pytest

from core.contracts import ApiCallCounter
from core.host import Host
from core.store.repository import CallCounter
from core.testing import DestinationConformance
from plugins.zoho_books.standin import SeededOrganization, ZohoBooksStandIn
from plugins.zoho_books.standin.harness import ZohoBooksHarness
from zoho.helpers import CONNECTION, Build


class TestZohoBooksConformance(DestinationConformance):
    @pytest.fixture
    def harness(
        self, build: Build, zoho: ZohoBooksStandIn, org: SeededOrganization, host: Host
    ) -> ZohoBooksHarness:
        def make(calls: ApiCallCounter) -> object:
            assert isinstance(calls, CallCounter)
            return build(calls)

        def refresh_token() -> str:
            connection = host._connection_and_config(CONNECTION, "destination")[0]
            token = host.vault(connection.id).get("refresh_token")
            assert token
            return token

        return ZohoBooksHarness(zoho, org, make, refresh_token=refresh_token)  # type: ignore[arg-type]
