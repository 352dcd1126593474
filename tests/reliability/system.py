"""The whole system under test: a host, the HitPay stand-in and the Zoho Books stand-in.

Time is simulated when a start is given: the HitPay stand-in stamps charges with it, the Zoho
Books stand-in runs on it, the host's sync gets it as ``SyncOptions(now=...)`` and the real
Zoho Books destination is built with a clock that follows it (its back-off waits move the
clocks instead of sleeping). Without a start everything runs on real time (what a
``ledgersync sync`` subprocess sees).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core import clock, hookimpl
from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.connections.setup import attach_destination, connect_source
from core.host import Host
from core.plugins import Plugins
from core.store.repository import StoreVault, get_connection
from core.sync.engine import SyncOptions, SyncReport, sync
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.clock import ManualClock
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
from plugins.zoho_books.testing.standin.listing import DEFAULT_DATE_FILTER
from plugins.zoho_books.testing.standin.server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SeededOrganization,
    ZohoBooksStandIn,
)

__all__ = [
    "CONNECTION",
    "ZONE",
    "Books",
    "ChargeSpec",
    "DataSet",
    "RefundSpec",
    "System",
    "books_totals",
    "expected_totals",
    "small_data_set",
    "source_totals",
]

ZONE = ZoneInfo("Asia/Singapore")
CONNECTION = "shop"
HITPAY_FAST = {"backoff_factor": 0, "attempts": 3}
SECTIONS = ("invoices", "payments", "expenses", "credit_notes", "credit_refunds")
DONE = "succeeded"


class DestinationClock:
    """A pluggy plugin that builds the real Zoho Books destination with an injected clock.

    Registered after the built-ins, its class (same name, ``zoho_books``) is the one the host
    builds; nothing but the clock differs."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    @hookimpl
    def register_destinations(self, register: Any) -> None:
        clock = self.clock

        class ClockedZohoBooks(ZohoBooksDestination):
            def __init__(self, context: Any) -> None:
                super().__init__(context, clock=clock)

        register(ClockedZohoBooks)


@dataclass(frozen=True)
class ChargeSpec:
    amount: Decimal
    currency: str  # lower case, as HitPay sends it
    at: datetime
    channel: str = "api_link"
    method: str = "visa"


@dataclass(frozen=True)
class RefundSpec:
    charge: int  # index into the data set's charges
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class DataSet:
    charges: tuple[ChargeSpec, ...]
    refunds: tuple[RefundSpec, ...] = ()
    since: datetime | None = None  # when sync was enabled


def small_data_set(today: datetime) -> DataSet:
    """Two closed business days before ``today``: SGD and JPY sales, fees, a partial refund."""
    day = datetime.combine(
        (today.astimezone(ZONE) - timedelta(days=3)).date(), datetime.min.time(), tzinfo=ZONE
    )
    charges = (
        ChargeSpec(Decimal("120.50"), "sgd", day + timedelta(hours=10)),
        ChargeSpec(Decimal("4800"), "jpy", day + timedelta(hours=15), channel="point_of_sale"),
        ChargeSpec(Decimal("15.00"), "sgd", day + timedelta(days=1, hours=9), method="paynow"),
    )
    refunds = (RefundSpec(0, Decimal("20.50"), day + timedelta(days=1, hours=11)),)
    return DataSet(charges, refunds, since=day)


@dataclass
class Books:
    """The destination's books, normalized for comparison: no remote ids, roles for accounts."""

    rows: dict[str, list[tuple[Any, ...]]]
    contacts: list[tuple[str, str]]
    clearing: dict[str, Decimal]

    def references(self) -> list[str]:
        return [row[0] for section in SECTIONS for row in self.rows[section]]

    def duplicates(self) -> int:
        """How many documents repeat a reference number already in the books."""
        counts = Counter(self.references())
        return sum(n - 1 for n in counts.values() if n > 1) + sum(
            n - 1 for n in Counter(self.contacts).values() if n > 1
        )

    def missing_from(self, expected: Books) -> int:
        """Documents the expected books hold that these do not (by reference and content)."""
        lost = 0
        for section in SECTIONS:
            have = Counter(self.rows[section])
            for row in expected.rows[section]:
                if have[row] > 0:
                    have[row] -= 1
                else:
                    lost += 1
        return lost

    def strays(self, expected: Books) -> list[str]:
        """Documents that must not be there: a reference number the expected books do not
        hold, or hold with another amount (a partial sync may lack documents, never this)."""
        wanted = {
            (section, row[0]): dict(row[1:])["amount"]
            for section in SECTIONS
            for row in expected.rows[section]
        }
        return [
            f"{section} {row[0]} {dict(row[1:])['amount']}"
            for section in SECTIONS
            for row in self.rows[section]
            if wanted.get((section, row[0])) != dict(row[1:])["amount"]
        ]

    def diff(self, expected: Books) -> str:
        lines = []
        for section in SECTIONS:
            extra = Counter(self.rows[section]) - Counter(expected.rows[section])
            missing = Counter(expected.rows[section]) - Counter(self.rows[section])
            lines += [f"  extra {section}: {row}" for row in extra.elements()]
            lines += [f"  missing {section}: {row}" for row in missing.elements()]
        if self.contacts != expected.contacts:
            lines.append(f"  contacts {self.contacts} != {expected.contacts}")
        if self.clearing != expected.clearing:
            lines.append(f"  clearing {self.clearing} != {expected.clearing}")
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Books):
            return NotImplemented
        return (
            {s: sorted(map(repr, r)) for s, r in self.rows.items()}
            == {s: sorted(map(repr, r)) for s, r in other.rows.items()}
            and self.contacts == other.contacts
            and self.clearing == other.clearing
        )

    __hash__ = None  # type: ignore[assignment]


def _normalize(summary: Mapping[str, Any], org: SeededOrganization) -> Books:
    roles = {
        org.sales_account: "sales",
        org.fee_account: "fee",
        org.refund_account: "refund",
        org.bank_account: "bank",
        org.item: "item",
    }

    def role(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(role(v) for v in value)
        return roles.get(value, value) if isinstance(value, str) else value

    rows: dict[str, list[tuple[Any, ...]]] = {}
    for section in SECTIONS:
        rows[section] = [
            tuple(
                [row["reference_number"]]
                + [
                    (name, role(value))
                    for name, value in sorted(row.items())
                    if name not in ("id", "reference_number")
                ]
            )
            for row in summary[section]
        ]
    clearing = {
        currency: amount
        for currency, amount in summary["bank_balances"].get(org.bank_account, {}).items()
    }
    return Books(rows, sorted(summary["contacts"]), clearing)


def source_totals(
    hitpay: HitPayStandIn, charge_ids: Iterable[str] | None = None
) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per currency (upper case): charges, fees and refunds of the given (default: all)
    charges, from the stand-in's own payloads."""
    wanted = set(charge_ids) if charge_ids is not None else None
    totals: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for payload in hitpay.charges():
        if wanted is not None and payload["id"] not in wanted:
            continue
        currency = str(payload["currency"]).upper()
        charges, fees, refunds = totals.get(currency, (Decimal(0), Decimal(0), Decimal(0)))
        fee = Decimal(str(payload["fixed_fee"])) + Decimal(str(payload["discount_fee"]))
        refunded = Decimal(str(payload.get("refunded_amount") or 0))
        totals[currency] = (
            charges + Decimal(str(payload["amount"])),
            fees + fee,
            refunds + refunded,
        )
    return totals


@dataclass
class System:
    """Host + stand-ins + one connection. Use as a context manager."""

    db_url: str
    start: datetime | None = None
    mode: str = "bulk"
    fees: str | None = None  # --fees daily / charge (None: the default)
    payments: str | None = None  # --payments daily / charge
    notify_emails: tuple[str, ...] = ()
    destination_config: dict[str, Any] = field(default_factory=dict)
    source_config: dict[str, Any] = field(default_factory=dict)
    # the Zoho Books stand-in's variant of what the evidence leaves open
    payments_list_key: str = "customerpayments"
    reference_filter: str = "contains"
    date_filter: str = DEFAULT_DATE_FILTER
    tax_registered: bool = False  # a GST-registered organization (the item's tax is GST9)
    plan: str = "standard"  # the Zoho Books plan: its daily API quota (free: 1,000)
    zoho: ZohoBooksStandIn = field(init=False)
    hitpay: HitPayStandIn = field(init=False)
    host: Host = field(init=False)
    clock: ManualClock = field(init=False)
    org: SeededOrganization = field(init=False)
    charge_ids: list[str] = field(default_factory=list)
    on_wait: list[Callable[[float], None]] = field(default_factory=list)
    repairs: list[Callable[[], None]] = field(default_factory=list)  # before the next sync
    _now: datetime | None = field(default=None, init=False)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, init=False)

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> System:
        self._now = self.start
        self.clock = ManualClock(self.start or clock.now(), on_sleep=self._waited)
        self.hitpay = self._stack.enter_context(
            HitPayStandIn(timezone=str(ZONE), clock=self.now, id_seed=7)
        )
        self.zoho = self._stack.enter_context(
            ZohoBooksStandIn(
                per_minute=ZohoBooksStandInKit.DEMO_PER_MINUTE,
                start=self.start.astimezone(UTC) if self.start else None,
                payments_list_key=self.payments_list_key,
                reference_filter=self.reference_filter,
                date_filter=self.date_filter,
            )
        )
        plugins = Plugins()
        plugins.register(DestinationClock(self.clock), name="reliability-destination-clock")
        self.host = Host(self.db_url, plugins=plugins)
        self._stack.callback(self.host.close)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def now(self) -> datetime:
        return self._now if self._now is not None else clock.now()

    def _waited(self, seconds: float) -> None:
        """The destination backed off: the Zoho Books stand-in's time passes as much."""
        self.zoho.advance(seconds)
        for callback in self.on_wait:
            callback(seconds)

    def advance(self, delta: timedelta) -> None:
        """Let simulated time pass on every clock."""
        assert self._now is not None, "real time cannot be advanced"
        self._now += delta
        self.clock.advance(delta.total_seconds())
        self.zoho.advance(delta.total_seconds())

    # -- set-up ------------------------------------------------------------------------

    def add(self, data: DataSet) -> list[str]:
        ids = []
        for charge in data.charges:
            payload = self.hitpay.add_charge(
                amount=charge.amount,
                currency=charge.currency,
                created_at=charge.at,
                channel=charge.channel,
                method=charge.method,
            )
            ids.append(payload["id"])
        for refund in data.refunds:
            self.hitpay.refund(ids[refund.charge], refund.amount, at=refund.at)
        self.charge_ids.extend(ids)
        return ids

    def connect_source(self) -> None:
        connect_source(
            self.host,
            CONNECTION,
            source="hitpay",
            source_account=key_fingerprint(self.hitpay.api_key),
            config={"api_url": self.hitpay.url, **HITPAY_FAST, **self.source_config},
            secrets={"api_key": self.hitpay.api_key},
            timezone=str(ZONE),
        )

    def connect_destination(self, *, reconnect: bool = False) -> None:
        """As `ledgersync zoho connect` with a Self Client grant: fresh tokens, stored
        encrypted; the first time also a fresh organization (the kit's own steps)."""
        if not reconnect:
            self.org = self.zoho.create_organization(
                f"{CONNECTION} Pte Ltd", "SGD", tax_registered=self.tax_registered, plan=self.plan
            )
        tokens = self.zoho.tokens()
        expires = self.zoho.now() + timedelta(seconds=int(tokens["expires_in"]))
        attach_destination(
            self.host,
            CONNECTION,
            destination="zoho_books",
            organization=self.org.organization_id,
            config={
                "datacenter": "com",
                "accounts_url": self.zoho.accounts_url,
                "api_url": tokens["api_domain"],
                "organization_id": self.org.organization_id,
                "organization_name": self.org.name,
                "client_id": DEFAULT_CLIENT_ID,
                "requests_per_minute": self.zoho.per_minute,
                **self.destination_config,
            },
            secrets={
                "client_secret": DEFAULT_CLIENT_SECRET,
                "refresh_token": tokens["refresh_token"],
                "access_token": tokens["access_token"],
                "access_token_expires_at": expires.isoformat(),
            },
        )

    def connect(self, data: DataSet | None = None) -> System:
        """Connect both sides, map the accounts, pick the mode and enable sync."""
        if data is not None:
            self.add(data)
        self.connect_source()
        self.connect_destination()
        org = self.org
        change_settings(
            self.host,
            CONNECTION,
            SettingsChange(
                sales_account=org.sales_account,
                fee_account=org.fee_account,
                refund_account=org.refund_account,
                bank_account=org.bank_account,
                item=org.item,
                mode=self.mode,
                notify_emails=list(self.notify_emails) or None,
                fees=self.fees,
                payments=self.payments,
            ),
        )
        since = data.since if data is not None and data.since is not None else self.now()
        enable(self.host, CONNECTION, since=since, now=max(since, self.now()))
        return self

    # -- running -----------------------------------------------------------------------

    def sync(self, *, force: bool = True, trigger: str = "manual") -> SyncReport:
        return sync(self.host, CONNECTION, SyncOptions(trigger=trigger, force=force, now=self._now))

    def sync_until_done(self, limit: int = 5) -> list[SyncReport]:
        """Sync again and again (forced) until a run succeeds with nothing left to deliver."""
        reports = []
        for _ in range(limit):
            report = self.sync()
            reports.append(report)
            if report.outcome == DONE and not report.pending:
                return reports
        outcomes = [(r.outcome, r.pending, r.error) for r in reports]
        raise AssertionError(f"sync did not finish in {limit} runs: {outcomes}")

    # -- looking -----------------------------------------------------------------------

    def vault(self) -> StoreVault:
        return self.vault_named(CONNECTION)

    def vault_named(self, name: str) -> StoreVault:
        with self.host.database.session() as session:
            connection_id = get_connection(session, name).id
        return self.host.vault(connection_id)

    def books(self) -> Books:
        return _normalize(self.zoho.books(self.org.organization_id), self.org)

    def raw_books(self) -> dict[str, Any]:
        return self.zoho.books(self.org.organization_id)


def expected_totals(system: System) -> dict[str, dict[str, Decimal]]:
    """What the books must add up to when every charge of the stand-in is synced."""
    totals = source_totals(system.hitpay)
    return {
        currency: {
            "invoices": charges,
            "payments": charges,
            "expenses": fees,
            "credit_notes": refunds,
            "credit_refunds": refunds,
            "clearing": charges - fees - refunds,
        }
        for currency, (charges, fees, refunds) in totals.items()
    }


def books_totals(raw: Mapping[str, Any], bank_account: str) -> dict[str, dict[str, Decimal]]:
    found: dict[str, dict[str, Decimal]] = {}
    for section in SECTIONS:
        for row in raw[section]:
            per = found.setdefault(row["currency"], {})
            per[section] = per.get(section, Decimal(0)) + row["amount"]
    for currency, amount in raw["bank_balances"].get(bank_account, {}).items():
        found.setdefault(currency, {})["clearing"] = amount
    for per in found.values():
        for name in (*SECTIONS, "clearing"):
            per.setdefault(name, Decimal(0))
    return found
