"""Rollback on an append-only journal: reversing entries, never an erased line; Beancount still
balances, the clearing account is back to zero, and a repost under another fee account books
the fees there. A destination that cannot delete a kind says so in its capabilities, and the
host refuses a rollback that would need it before deleting anything."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from core import hookimpl
from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.connections.setup import attach_destination, connect_source
from core.errors import ConfigurationError
from core.hookspecs import Register
from core.host import Host
from core.plugins import get_plugins
from core.store.models import DocumentRow, Run
from core.sync.engine import SyncOptions, sync
from core.sync.undo import Scope, rollback
from file_journal.test_file_journal_end_to_end import (
    ACCOUNTS,
    FAST,
    START,
    ZONE,
    clearing_by_currency,
    payout_by_currency,
)
from plugins.file_journal import FileJournal
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn

NOW = START + timedelta(days=3)


class InvoicesOnlyJournal(FileJournal):
    """A journal that can take back invoices only (a destination's capability)."""

    name: ClassVar[str] = "invoices_only_journal"
    deletable_kinds: ClassVar[frozenset[str]] = frozenset({"invoice"})


class InvoicesOnlyPlugin:
    @hookimpl
    def register_destinations(self, register: Register) -> None:
        register(InvoicesOnlyJournal)


@pytest.fixture
def standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn(timezone=str(ZONE)) as server:
        yield server


@pytest.fixture
def journal_host(db_url: str, secret_key: str) -> Iterator[Host]:
    plugins = get_plugins()
    plugins.register(InvoicesOnlyPlugin(), name="invoices-only-journal")
    host = Host(db_url, plugins=plugins)
    yield host
    host.close()


def _synced(host: Host, standin: HitPayStandIn, journal: Path, destination: str) -> None:
    for hour, (currency, amount) in enumerate([("sgd", "120.50"), ("jpy", "4800"), ("sgd", "9")]):
        standin.add_charge(
            amount=Decimal(amount), currency=currency, created_at=START + timedelta(hours=9 + hour)
        )
    standin.refund(standin.charges()[0]["id"], Decimal("20.50"), at=START + timedelta(hours=20))
    connect_source(
        host,
        "shop",
        source="hitpay",
        source_account=key_fingerprint(standin.api_key),
        config={"api_url": standin.url, **FAST},
        secrets={"api_key": standin.api_key},
        timezone=str(ZONE),
    )
    attach_destination(
        host,
        "shop",
        destination=destination,
        organization=str(journal),
        config={"path": str(journal), "format": "beancount"},
        secrets={},
    )
    change_settings(host, "shop", ACCOUNTS)
    enable(host, "shop", since=START, now=START)
    report = sync(host, "shop", SyncOptions(trigger="scheduled", now=NOW))
    assert report.outcome == "succeeded", report.error


def _per_account(path: Path) -> dict[str, Decimal]:
    from beancount import loader

    entries, errors, _ = loader.load_file(str(path))
    assert not errors, [error.message for error in errors]  # every entry balances
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for posting in getattr(entry, "postings", []):
            totals[f"{posting.account} {posting.units.currency}"] += posting.units.number
    return dict(totals)


def test_a_journal_rolls_back_with_reversing_entries_and_a_repost_books_the_new_account(
    journal_host: Host, standin: HitPayStandIn, tmp_path: Path
) -> None:
    host, journal = journal_host, tmp_path / "books.beancount"
    _synced(host, standin, journal, "file_journal")
    written = journal.read_bytes()

    report = rollback(host, "shop", Scope(since=START.date()))

    assert report.outcome == "succeeded", report.error
    assert journal.read_bytes().startswith(written)  # appended to, never rewritten
    assert set(_per_account(journal).values()) == {Decimal(0)}
    assert report.result.deleted["invoice"] == 2  # Bulk: one a day and currency
    again = rollback(host, "shop", Scope(since=START.date()))
    assert sum(again.result.deleted.values()) == 0  # nothing left to take back
    with host.database.session() as session:
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 0

    change_settings(host, "shop", SettingsChange(fee_account="Expenses:Card-Fees"))
    reposted = sync(host, "shop", SyncOptions(trigger="scheduled", now=NOW + timedelta(hours=1)))

    assert reposted.outcome == "succeeded", reposted.error
    assert clearing_by_currency(journal) == payout_by_currency(standin)
    totals = _per_account(journal)
    assert totals["Expenses:HitPay-Fees SGD"] == 0
    assert totals["Expenses:Card-Fees SGD"] > 0


def test_a_rollback_the_destination_cannot_delete_is_refused_before_anything_is_deleted(
    journal_host: Host, standin: HitPayStandIn, tmp_path: Path
) -> None:
    host, journal = journal_host, tmp_path / "books.beancount"
    _synced(host, standin, journal, "invoices_only_journal")
    written = journal.read_bytes()

    for dry_run in (True, False):
        with pytest.raises(ConfigurationError, match=r"cannot delete .* nothing was deleted"):
            rollback(host, "shop", Scope(since=START.date()), dry_run=dry_run)

    assert journal.read_bytes() == written
    with host.database.session() as session:
        states = set(session.scalars(select(DocumentRow.state)))
        triggers = set(session.scalars(select(Run.trigger)))
    assert states == {"delivered"}
    assert "rollback" not in triggers
