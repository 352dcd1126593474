"""``ledgersync demo``: the whole flow against local stand-ins, with no account and no network.

It picks a source and a destination that ship stand-in kits (``register_standins``), seeds a
month of sales, connects, maps the accounts, enables from the start of the month, syncs in
Bulk and then in Individual mode (on a second connection), and ties the destination's
clearing account out against the source: charges - fees - refunds.
"""

from __future__ import annotations

import calendar
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.contracts import SourceTotals
from core.errors import ConfigurationError
from core.host import Host
from core.plugins import Plugins, get_plugins
from core.states import SyncMode, SyncTrigger
from core.store.repository import utcnow
from core.sync.engine import SyncOptions, SyncReport, sync
from core.sync.reconcile import Reconciliation, reconcile, to_text

__all__ = [
    "DEMO_TIMEZONE",
    "STORE_FILE",
    "DemoResult",
    "pick_kit",
    "previous_month",
    "refuse_used_folder",
    "run_demo",
]

DEMO_TIMEZONE = "Asia/Singapore"
STORE_FILE = "ledgersync.sqlite"  # its key file beside it is ledgersync.key, as the CLI expects


@dataclass(slots=True)
class ModeResult:
    mode: str
    connection: str
    first: SyncReport
    second: SyncReport
    documents: dict[str, int]
    expected: dict[str, Decimal]
    clearing: dict[str, Decimal]
    totals: dict[str, SourceTotals]
    transfers: list[tuple[str, Decimal, str]] = field(default_factory=list)
    reconciled: Reconciliation | None = None

    @property
    def ties_out(self) -> bool:
        currencies = set(self.expected) | set(self.clearing)
        if self.reconciled is not None and not self.reconciled.ties:
            return False
        return all(
            self.expected.get(c, Decimal(0)) == self.clearing.get(c, Decimal(0)) for c in currencies
        )


@dataclass(slots=True)
class DemoResult:
    month: str
    source: str
    destination: str
    modes: list[ModeResult] = field(default_factory=list)

    @property
    def ties_out(self) -> bool:
        return all(mode.ties_out for mode in self.modes)


def refuse_used_folder(folder: Path) -> None:
    """A kept demo needs a folder of its own: an earlier demo's store there is not reused."""
    if (folder / STORE_FILE).exists():
        raise ConfigurationError(
            f"{folder} already holds a store ({STORE_FILE}).",
            "Give --keep an empty or new folder (or delete that one's store and key first).",
        )


def pick_kit(plugins: Plugins, kind: str, wanted: str | None) -> type[Any]:
    names = plugins.catalog.sources if kind == "source" else plugins.catalog.destinations
    kits = {name: kit for name, kit in plugins.catalog.standins.items() if name in names}
    if wanted:
        if wanted not in kits:
            raise ConfigurationError(f"no stand-in kit for {kind} {wanted!r}.")
        return kits[wanted]
    if not kits:
        if any("ModuleNotFoundError" in failure for failure in plugins.failures.values()):
            raise ConfigurationError(
                "the demo's stand-in servers are not installed.",
                "Install them with: pip install 'ledgersync[standins]'",
            )
        raise ConfigurationError(
            f"no installed {kind} plugin ships a stand-in kit, so the demo cannot run.",
            "Install a plugin that registers one through register_standins.",
        )
    return kits[sorted(kits)[0]]


def previous_month(now: datetime, timezone: str) -> tuple[datetime, int]:
    """The local start of the month before ``now``'s and its number of days."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    last_month_end = today.replace(day=1)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    days = calendar.monthrange(year, month)[1]
    assert date(year, month, days) < last_month_end
    return datetime.combine(date(year, month, 1), time(0), tzinfo=zone), days


def _expected_clearing(totals: dict[str, SourceTotals]) -> dict[str, Decimal]:
    return {c: t.charges - t.fees - t.refunds - t.payouts for c, t in totals.items()}


def run_demo(
    *,
    workdir: Path | None = None,
    source: str | None = None,
    destination: str | None = None,
    seed: int = 2026,
    echo: Callable[[str], None] = print,
    now: datetime | None = None,
) -> DemoResult:
    """Run the demo in ``workdir`` (default: a new temporary directory)."""
    plugins = get_plugins()
    source_kit = pick_kit(plugins, "source", source)
    destination_kit = pick_kit(plugins, "destination", destination)
    if workdir is not None:
        refuse_used_folder(workdir)
    zone = ZoneInfo(DEMO_TIMEZONE)
    now = now or utcnow()
    start, days = previous_month(now, DEMO_TIMEZONE)
    end = datetime.combine(start.date().replace(day=days), time(23, 59, 59, 999999), tzinfo=zone)
    with tempfile.TemporaryDirectory(prefix="ledgersync-demo-") as tmp:
        folder = workdir or Path(tmp)
        host = Host(f"sqlite:///{folder / STORE_FILE}", plugins=plugins)
        result = DemoResult(start.strftime("%B %Y"), source_kit.name, destination_kit.name)
        echo(
            f"ledgersync demo: {source_kit.name} -> {destination_kit.name}, "
            f"{result.month}, time zone {DEMO_TIMEZONE}"
        )
        echo(f"  store: {host.database.url}")
        try:
            for mode in SyncMode:
                outcome = _run_mode(
                    host, source_kit, destination_kit, mode, start, end, days, seed, now, echo
                )
                result.modes.append(outcome)
        finally:
            host.close()
    echo("")
    echo(
        "Everything ties out: charges - fees - refunds - payouts = clearing account balance, "
        "and reconcile agrees."
        if result.ties_out
        else "MISMATCH: the books do not tie out (see above)."
    )
    if workdir is not None:
        echo(
            f"The store and its key stay in {workdir}: ledgersync --db "
            f"sqlite:///{workdir / STORE_FILE} status (the stand-ins stopped with the demo; "
            "`ledgersync demo --serve` keeps them up to sync and click through)."
        )
    return result


def _run_mode(
    host: Host,
    source_kit: type[Any],
    destination_kit: type[Any],
    mode: str,
    start: datetime,
    end: datetime,
    days: int,
    seed: int,
    now: datetime,
    echo: Callable[[str], None],
) -> ModeResult:
    name = f"demo-{mode}"
    with source_kit() as source_fake, destination_kit() as destination_fake:
        source_fake.seed_demo(start, days, DEMO_TIMEZONE, seed)
        source_fake.connect(host, name, DEMO_TIMEZONE)
        settings = destination_fake.connect(host, name)
        change_settings(
            host,
            name,
            # a local stand-in: no other app shares its daily quota
            SettingsChange.mapping(settings, payouts=True, mode=mode, api_share=100),
        )
        enable(host, name, since=start, now=now)
        first = sync(host, name, SyncOptions(trigger=SyncTrigger.MANUAL, now=now))
        second = sync(host, name, SyncOptions(trigger=SyncTrigger.MANUAL, force=True, now=now))
        totals = dict(source_fake.expected_totals(start, end))
        books = destination_fake.books(name)
        clearing = dict(destination_fake.clearing_balance(name))
        reconciled = reconcile(host, name, now=now)
    documents: dict[str, int] = {}
    for document in books:
        documents[str(document["kind"])] = documents.get(str(document["kind"]), 0) + 1
    outcome = ModeResult(
        mode, name, first, second, documents, _expected_clearing(totals), clearing, totals
    )
    outcome.transfers = [
        (str(d["reference_number"]), Decimal(d["amount"]), str(d.get("currency_code", "")))
        for d in books
        if d["kind"] == "transfer"
    ]
    outcome.reconciled = reconciled
    _print_mode(outcome, echo)
    return outcome


def _print_mode(result: ModeResult, echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"{result.mode.capitalize()} mode (connection {result.connection}):")
    made = ", ".join(f"{n} {k}" for k, n in sorted(result.documents.items()))
    echo(f"  first sync: {result.first.outcome}; in the books now: {made}")
    echo(
        f"  first sync made {result.first.api_calls} API calls; second sync created "
        f"{sum(result.second.documents_delivered.values())} documents (idempotent)"
    )
    header = f"  {'currency':<8} {'charges':>12} {'fees':>10} {'refunds':>10} {'payouts':>12}"
    echo(header + f" {'expected':>12} {'clearing':>12}")
    for currency in sorted(set(result.expected) | set(result.clearing)):
        totals = result.totals.get(currency, SourceTotals(Decimal(0), Decimal(0), Decimal(0)))
        expected = result.expected.get(currency, Decimal(0))
        clearing = result.clearing.get(currency, Decimal(0))
        mark = "ok" if expected == clearing else "MISMATCH"
        echo(
            f"  {currency:<8} {totals.charges:>12} {totals.fees:>10} {totals.refunds:>10} "
            f"{totals.payouts:>12} {expected:>12} {clearing:>12}  {mark}"
        )
    per_currency: dict[str, list[Decimal]] = {}
    for _key, amount, currency in result.transfers:
        per_currency.setdefault(currency, []).append(amount)
    for currency, amounts in sorted(per_currency.items()):
        echo(
            f"  payouts booked as transfers to the bank: {len(amounts)} in {currency}, "
            f"{sum(amounts, Decimal(0))} {currency} (e.g. {result.transfers[0][0]})"
        )
    if result.reconciled is not None:
        for line in to_text(result.reconciled):
            echo(f"  {line}")
