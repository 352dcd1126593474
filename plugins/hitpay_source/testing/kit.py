"""The stand-in kit the demo and end-to-end tests drive (core's SourceStandIn)."""

from __future__ import annotations

import os
import random
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from core.api import BadRecord, SourceTotals, connect_source, set_event_timing
from plugins.hitpay_source.connecting import store_webhook_salt, webhook_url
from plugins.hitpay_source.parsing import SALE_STATUSES, parse_charge
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin.server import HitPayStandIn

__all__ = ["HitPayStandInKit"]

FAST_RETRIES = {"backoff_factor": 0, "attempts": 3}


SALE_SECONDS_ENV = "LEDGERSYNC_SANDBOX_SALE_SECONDS"
DEFAULT_SALE_SECONDS = 30.0


class HitPayStandInKit:
    """A running HitPay stand-in for one business."""

    name: ClassVar[str] = "hitpay"

    def __init__(self, standin: HitPayStandIn | None = None) -> None:
        self.standin = standin or HitPayStandIn()
        self._owns = standin is None

    def __enter__(self) -> HitPayStandInKit:
        if self._owns:
            self.standin.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owns:
            self.standin.stop()

    def seed_demo(self, start: datetime, days: int, timezone: str, seed: int) -> None:
        """The seeded sales, and a payout each morning from the second day on of the day
        before's balance (the last day's sales stay with HitPay)."""
        self.standin.seed(seed, start.date(), days, timezone)
        self.standin.payouts.schedule(start.date() + timedelta(days=1), days - 1, next_day=False)

    def connect(self, host: Any, connection: str, timezone: str) -> None:
        """As `ledgersync hitpay connect NAME --api-url URL --timezone TZ` would."""
        connect_source(
            host,
            connection,
            source="hitpay",
            source_account=key_fingerprint(self.standin.api_key),
            config={"api_url": self.standin.url, **FAST_RETRIES},
            secrets={"api_key": self.standin.api_key},
            timezone=timezone,
        )

    def sandbox_notes(self, connection: str) -> list[str]:
        """How to connect to this stand-in by hand (``ledgersync demo --serve`` prints it)."""
        return [
            f"HitPay stand-in: API {self.standin.url}, API key {self.standin.api_key} "
            "(a stand-in key)",
            f"  ledgersync hitpay connect {connection} --api-url {self.standin.url} "
            "--timezone Asia/Singapore (paste the key at the prompt)",
        ]

    @contextmanager
    def sandbox_live(self, host: Any, connection: str, page_url: str) -> Iterator[list[str]]:
        """A shop that keeps selling while ``ledgersync demo --serve`` runs: a new sale every
        ``LEDGERSYNC_SANDBOX_SALE_SECONDS`` (default 30; 0: no new sales), each sent as a signed
        webhook to the page, as HitPay does once an endpoint is registered. Yields the lines to
        print."""
        every = float(os.environ.get(SALE_SECONDS_ENV) or DEFAULT_SALE_SECONDS)
        salt = secrets.token_hex(16)
        store_webhook_salt(host, connection, salt)
        set_event_timing(host.database, connection, every_minutes=1, quiet_seconds=5)
        url = webhook_url(page_url, connection)
        self.standin.webhooks.register(url, salt)
        stop = threading.Event()
        amounts = random.Random(connection)

        def sell() -> None:
            while not stop.wait(every):
                cents = amounts.randrange(500, 20_000)
                self.standin.add_charge(amount=Decimal(cents) / 100)

        seller = threading.Thread(target=sell, name="sandbox-sales", daemon=True)
        if every > 0:
            seller.start()
        selling = f"a new sale every {every:g} s" if every > 0 else "no new sales"
        try:
            yield [
                f"HitPay stand-in webhooks: {selling}, each signed and sent to {url}",
                f"  (the salt is stored; watch `ledgersync status {connection}`: last event, next "
                "event sync; in Bulk mode events refresh the records, the day is booked once "
                "closed; in Individual mode each sale is booked within a minute)",
            ]
        finally:
            stop.set()
            if seller.is_alive():
                seller.join(timeout=every + 10)

    def expected_totals(self, since: datetime, until: datetime) -> Mapping[str, SourceTotals]:
        """Per currency: sales, fees and refunds of the sales created in [since, until), and
        the payouts made in it (the demo's payouts settle only such sales)."""
        charges: dict[str, Decimal] = {}
        fees: dict[str, Decimal] = {}
        refunds: dict[str, Decimal] = {}
        for payload in self.standin.charges():
            if payload.get("status") not in SALE_STATUSES:
                continue
            try:
                charge = parse_charge(payload)
            except BadRecord:
                continue
            if not since <= charge.created_at < until:
                continue
            charges[charge.currency] = charges.get(charge.currency, Decimal(0)) + charge.amount
            fees[charge.fee_currency] = fees.get(charge.fee_currency, Decimal(0)) + charge.fee
            refunded = Decimal(str(payload.get("refunded_amount") or 0))
            refunds[charge.currency] = refunds.get(charge.currency, Decimal(0)) + refunded
        payouts: dict[str, Decimal] = {}
        for payout in self.standin.payouts.listing():
            if since <= datetime.fromisoformat(payout["created_at"]) < until:
                code = str(payout["currency"]).upper()
                payouts[code] = payouts.get(code, Decimal(0)) + Decimal(payout["amount"])
        zero = Decimal(0)
        return {
            currency: SourceTotals(
                charges.get(currency, zero),
                fees.get(currency, zero),
                refunds.get(currency, zero),
                payouts.get(currency, zero),
            )
            for currency in sorted(set(charges) | set(fees) | set(refunds))
        }
