"""The stand-in kit the demo and end-to-end tests drive (core's DestinationStandIn)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from core.api import AccountSettings, attach_destination
from plugins.zoho_books.testing.standin.server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SeededOrganization,
    ZohoBooksStandIn,
)

__all__ = ["ZohoBooksStandInKit"]

KINDS = {
    "invoices": "invoice",
    "payments": "payment",
    "expenses": "expense",
    "credit_notes": "credit_note",
    "credit_refunds": "credit_refund",
    "credits_applied": "credit_applied",
    "transfers": "transfer",  # payouts; present once there is one
    "journals": "adjustment",  # payout adjustments; present once there is one
}


class ZohoBooksStandInKit:
    """A running Zoho Books stand-in; each connected connection gets its own organization."""

    name: ClassVar[str] = "zoho_books"
    # The stand-in is local, so the demo lifts Zoho's 100 requests/minute on both sides (the
    # limiter itself is tested at Zoho's real figure in tests/zoho/).
    DEMO_PER_MINUTE: ClassVar[int] = 100_000

    def __init__(self, standin: ZohoBooksStandIn | None = None) -> None:
        self.standin = standin or ZohoBooksStandIn(per_minute=self.DEMO_PER_MINUTE)
        self._owns = standin is None
        self.connected: dict[str, SeededOrganization] = {}

    def __enter__(self) -> ZohoBooksStandInKit:
        if self._owns:
            self.standin.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owns:
            self.standin.stop()

    def connect(
        self, host: Any, connection: str, *, tax_registered: bool = False
    ) -> AccountSettings:
        """As `ledgersync zoho connect NAME --grant-code ...` would: a Self Client grant, a
        fresh organization (GST-registered if asked), tokens stored encrypted. Returns ready
        account settings."""
        org = self.standin.create_organization(
            f"{connection} Pte Ltd", "SGD", tax_registered=tax_registered
        )
        tokens = self.standin.tokens()
        expires = self.standin.now().timestamp() + int(tokens["expires_in"])
        attach_destination(
            host,
            connection,
            destination="zoho_books",
            organization=org.organization_id,
            config={
                "datacenter": "com",
                "accounts_url": self.standin.accounts_url,
                "api_url": tokens["api_domain"],
                "organization_id": org.organization_id,
                "organization_name": org.name,
                "client_id": DEFAULT_CLIENT_ID,
                "requests_per_minute": self.standin.per_minute,
            },
            secrets={
                "client_secret": DEFAULT_CLIENT_SECRET,
                "refresh_token": tokens["refresh_token"],
                "access_token": tokens["access_token"],
                "access_token_expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            },
        )
        self.connected[connection] = org
        settings: AccountSettings = org.account_settings()
        return settings

    def sandbox_notes(self, connection: str) -> list[str]:
        """How to connect to this stand-in by hand (``ledgersync demo --serve`` prints it)."""
        codes = [self.standin.issue_grant_code() for _ in range(3)]
        roots = f"--accounts-url {self.standin.accounts_url} --api-url {self.standin.api_url}"
        if connection in self.connected:  # the stand-in holds other organizations too
            roots += f" --organization {self.connected[connection].organization_id}"
        roots += f" --requests-per-minute {self.standin.per_minute}"  # a local stand-in
        return [
            f"Zoho Books stand-in: accounts server {self.standin.accounts_url}, "
            f"API {self.standin.api_url}",
            f"  client id {DEFAULT_CLIENT_ID}, client secret {DEFAULT_CLIENT_SECRET} "
            "(stand-in values; export them as ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET)",
            "  Self Client grant codes it accepts (one use each, valid 60 s from now, as "
            f"Zoho's): {', '.join(codes)}",
            f"  ledgersync zoho connect {connection} --datacenter com {roots} --grant-code CODE",
            f"  or without a code, through its consent page: ledgersync zoho connect "
            f"{connection} --datacenter com {roots} --no-browser (open the URL it prints)",
            "  on the web page: Connect Zoho Books, datacenter com, with the two URLs above",
        ]

    def books(self, connection: str) -> list[Mapping[str, Any]]:
        summary = self.standin.books(self.connected[connection].organization_id)
        return [
            {"kind": kind, **row}
            for section, kind in KINDS.items()
            for row in summary.get(section, [])
        ]

    def clearing_balance(self, connection: str) -> Mapping[str, Decimal]:
        org = self.connected[connection]
        summary = self.standin.books(org.organization_id)
        return dict(summary["bank_balances"].get(org.bank_account, {}))
