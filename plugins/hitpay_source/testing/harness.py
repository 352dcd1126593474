"""The HitPay source's conformance harness: how :mod:`core.testing` drives this plugin against
its stand-in over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from core.api import ApiCallCounter, FetchWindow
from core.testing import ConformanceStore, SourceHarness
from core.testing.source import RecordId
from plugins.hitpay_source.source import HitPaySource, key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn

# Retries without waiting and small pages, so a dozen charges span several pages.
CONFIG = {"backoff_factor": 0, "attempts": 3, "connect_timeout": 2, "read_timeout": 2}
PER_PAGE = 5


class HitPayHarness(SourceHarness):
    """Thirteen charges in three currencies over three days, one refunded in part."""

    def __init__(self, standin: HitPayStandIn, folder: Path) -> None:
        self.standin = standin
        self.conformance_store = ConformanceStore(
            folder,
            source="hitpay",
            account=key_fingerprint(standin.api_key),
            timezone=standin.timezone,
        )
        self.conformance_store.vault().set("api_key", standin.api_key)
        zone = ZoneInfo(standin.timezone)
        self.start = datetime(2026, 3, 2, tzinfo=zone)
        self.end = self.start + timedelta(days=3)
        self._expected: set[RecordId] = set()
        currencies = [("sgd", Decimal("12.50")), ("jpy", Decimal(1500)), ("usd", Decimal("9.99"))]
        for number in range(13):
            currency, amount = currencies[number % 3]
            charge = standin.add_charge(
                amount=amount + number,
                currency=currency,
                created_at=self.start + timedelta(hours=5 * number, minutes=7),
                channel="point_of_sale",
            )
            self._expected.add(("charge", charge["id"]))
        refunded = standin.charges()[0]["id"]
        refund = standin.refund(refunded, Decimal("5.00"), at=self.start + timedelta(hours=30))
        self._expected.add(("refund", refund["id"]))
        standin.add_charge(created_at=self.start - timedelta(hours=2))  # before the window
        standin.add_charge(created_at=self.end)  # the window's end is open

    def build(self, calls: ApiCallCounter) -> HitPaySource:
        config = {"api_url": self.standin.url, "per_page": PER_PAGE, **CONFIG}
        return HitPaySource(self.conformance_store.context(config, calls, side="source"))

    def window(self) -> FetchWindow:
        return FetchWindow(self.start, self.end, refunds_since=self.start - timedelta(days=120))

    def expected(self) -> set[RecordId]:
        return set(self._expected)

    def inject_malformed(self) -> str | None:
        charge = self.standin.add_charge(
            amount="twelve dollars", created_at=self.start + timedelta(hours=1)
        )
        return str(charge["id"])

    def served_requests(self) -> int:
        return len(self.standin.requests)

    def make_unhealthy(self) -> bool:
        self.conformance_store.vault().set("api_key", "revoked-" + self.standin.api_key[:8])
        return True

    def store(self) -> ConformanceStore:
        return self.conformance_store
