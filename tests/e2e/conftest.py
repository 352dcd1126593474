"""End-to-end fixtures: real HitPay and Zoho Books stand-ins over HTTP, a real SMTP server, the
`ledgersync` CLI through click's runner and as a real subprocess.

Per module: one Zoho Books stand-in (each connection gets its own organization, so tests stay
independent) and one mail server (its mailbox emptied per test). Per test: a fresh store and
a fresh HitPay stand-in (one business; its charges are the test's own).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from support.pairs import connect_pair
from support.smtp import MailServer, ReceivedMail

from core.cli.main import build_cli
from core.connections.lifecycle import enable
from core.contracts import AccountSettings, SourceTotals
from core.host import Host
from core.plugins import get_plugins
from core.store.repository import get_connection
from plugins.hitpay_source.testing.kit import HitPayStandInKit
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)
from plugins.zoho_books.testing.standin.server import SeededOrganization

LEDGERSYNC = Path(sys.executable).parent / "ledgersync"
ZOHO_ENV = {"ZOHO_CLIENT_ID": DEFAULT_CLIENT_ID, "ZOHO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
PER_MINUTE = 100_000  # the stand-in is local; Zoho's real 100/minute is tested in tests/zoho
TIMEZONE = "Asia/Singapore"
NOTIFY = "ops@shop.example"


@pytest.fixture(scope="module")
def zoho_standin() -> Iterator[ZohoBooksStandIn]:
    with ZohoBooksStandIn(per_minute=PER_MINUTE) as standin:
        yield standin


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def mailbox(
    mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[ReceivedMail]]:
    """The messages the e-mail notifier sends during this test (LEDGERSYNC_SMTP_URL is set)."""
    monkeypatch.setenv("LEDGERSYNC_SMTP_URL", f"smtp://127.0.0.1:{mail_server.port}?timeout=10")
    monkeypatch.setenv("LEDGERSYNC_MAIL_FROM", "ledgersync@books.example")
    mail_server.mailbox.received.clear()
    yield mail_server.mailbox.received
    mail_server.mailbox.received.clear()


@pytest.fixture
def hitpay_standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn(timezone=TIMEZONE) as standin:
        yield standin


@dataclass
class Shop:
    """One connection under test: its store, its stand-ins, and ways to drive the CLI."""

    name: str
    db_url: str
    host: Host
    hitpay: HitPayStandInKit
    zoho: ZohoBooksStandInKit
    accounts: AccountSettings | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def charges_api(self) -> HitPayStandIn:
        return self.hitpay.standin

    @property
    def zoho_api(self) -> ZohoBooksStandIn:
        return self.zoho.standin

    # -- set-up through the Python API (what `connect` and `settings` do) -----------------

    def connect(
        self,
        *,
        mode: str = "bulk",
        channels: list[str] | None = None,
        notify: list[str] | None = None,
        timezone: str = TIMEZONE,
    ) -> AccountSettings:
        self.accounts = connect_pair(
            self.host,
            self.hitpay,
            self.zoho,
            self.name,
            timezone=timezone,
            mode=mode,
            channels=channels,
            notify_emails=notify,
        )
        return self.accounts

    def enable(self, since: datetime, now: datetime) -> None:
        enable(self.host, self.name, since=since, now=now)

    def adopt(self, organization: SeededOrganization) -> None:
        """Read the books of ``organization`` (connected through the CLI, not the kit)."""
        self.zoho.connected[self.name] = organization

    @property
    def organization_id(self) -> str:
        return self.zoho.connected[self.name].organization_id

    # -- the CLI ------------------------------------------------------------------------

    def cli(self, *args: str, input: str | None = None) -> Result:
        """`ledgersync --db URL ARGS...` through click's runner (stdout and stderr apart)."""
        return CliRunner().invoke(
            build_cli(), ["--db", self.db_url, *args], input=input, env=ZOHO_ENV | self.env
        )

    def run(
        self, *args: str, timeout: float = 120, db_url: str | None = None, **options: Any
    ) -> subprocess.CompletedProcess[str]:
        """`ledgersync --db URL ARGS...` as a real process."""
        return subprocess.run(
            [str(LEDGERSYNC), "--db", db_url or self.db_url, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ | ZOHO_ENV | self.env,
            check=False,
            **options,
        )

    # -- what landed --------------------------------------------------------------------

    def books(self) -> list[Mapping[str, Any]]:
        return self.zoho.books(self.name)

    def clearing(self) -> dict[str, Decimal]:
        return dict(self.zoho.clearing_balance(self.name))

    def totals(self, since: datetime, until: datetime) -> dict[str, SourceTotals]:
        return dict(self.hitpay.expected_totals(since, until))

    def row(self) -> Any:
        with self.host.database.session() as session:
            row = get_connection(session, self.name)
            session.expunge(row)
            return row


@pytest.fixture
def shop(
    db_url: str,
    secret_key: str,
    hitpay_standin: HitPayStandIn,
    zoho_standin: ZohoBooksStandIn,
) -> Iterator[Shop]:
    """Connection ``shop`` in a fresh store, not yet connected (call ``shop.connect()``)."""
    host = Host(db_url, plugins=get_plugins())
    yield Shop(
        name="shop",
        db_url=db_url,
        host=host,
        hitpay=HitPayStandInKit(hitpay_standin),
        zoho=ZohoBooksStandInKit(zoho_standin),
    )
    host.close()


def sums(books: list[Mapping[str, Any]], kind: str) -> dict[str, Decimal]:
    """Per currency, the total of the documents of ``kind`` in the books."""
    totals: dict[str, Decimal] = {}
    for document in books:
        if document["kind"] == kind:
            currency = str(document["currency"])
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(document["amount"])
    return totals


def one_line_error(output: str) -> str:
    """The single `Error: ...` line a user-caused failure prints; fails on a traceback."""
    assert "Traceback" not in output, output
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    return lines[0]


def local_midnight(moment: datetime, days_back: int, timezone: str = TIMEZONE) -> datetime:
    """The start of the local day ``days_back`` days before ``moment``'s local day."""
    zone = ZoneInfo(timezone)
    day = moment.astimezone(zone).date() - timedelta(days=days_back)
    return datetime.combine(day, time(0), tzinfo=zone)


def seed_sales(standin: HitPayStandIn, day0: datetime) -> list[dict[str, Any]]:
    """Two days of sales from local midnight ``day0``: SGD, USD and JPY, several channels,
    a partial and a full refund. Every moment is explicit, so the books can be predicted."""

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return day0 + timedelta(days=day, hours=hour, minutes=minute)

    charges = [
        standin.add_charge(amount=Decimal("120.00"), created_at=at(0, 10), channel="api_shopify"),
        standin.add_charge(
            amount=Decimal("45.50"), currency="usd", created_at=at(0, 11), channel="point_of_sale"
        ),
        standin.add_charge(
            amount=Decimal("3000"), currency="jpy", created_at=at(0, 12), channel="api_store"
        ),
        standin.add_charge(amount=Decimal("80.00"), created_at=at(1, 9), channel="api_link"),
        standin.add_charge(
            amount=Decimal("15.25"), created_at=at(1, 10, 30), channel="point_of_sale"
        ),
    ]
    standin.refund(charges[0]["id"], Decimal("20.00"), at=at(0, 15))
    standin.refund(charges[3]["id"], Decimal("80.00"), at=at(1, 18))
    return charges
