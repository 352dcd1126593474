"""The file journal: balanced entries, valid Beancount, exactly once, torn writes repaired."""

from __future__ import annotations

import csv
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import realization
from hypothesis import given
from hypothesis import strategies as st

from core.contracts import AccountSettings, DeliveryContext
from core.documents import Document
from core.errors import ConfigurationError, TransientError
from core.money import quantize
from core.plugins import Plugins
from core.store.repository import CallCounter
from core.testing import ConformanceStore, document_chain
from plugins.file_journal import FileJournal
from plugins.file_journal.accounts import JournalAccounts
from plugins.file_journal.entries import entry_for
from plugins.file_journal.testing.harness import JournalHarness, read_beancount, read_csv

SETTINGS = AccountSettings()  # every role on its default account


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConformanceStore]:
    opened = ConformanceStore(tmp_path / "store", destination="file_journal")
    yield opened
    opened.close()


def journal(
    store: ConformanceStore, folder: Path, name: str = "journal.beancount", **config: str
) -> FileJournal:
    """A journal plugin as the host builds it (a new instance: as in a new process)."""
    return FileJournal(store.context({"path": str(folder / name), **config}))


def deliver(destination: FileJournal, documents: list[Document]) -> dict[str, str]:
    remote_ids: dict[str, str] = {}
    for document in documents:
        known = {key: remote_ids[key] for key in document.depends_on if key in remote_ids}
        context = DeliveryContext(SETTINGS, known)
        remote_ids[document.key] = destination.deliver(document, context)
    return remote_ids


def balances(path: Path) -> dict[tuple[str, str], Decimal]:
    entries, errors, _ = loader.load_file(str(path))
    assert not errors, [error.message for error in errors]
    real = realization.realize(entries)  # type: ignore[no-untyped-call]
    totals: dict[tuple[str, str], Decimal] = {}
    for account in realization.iter_children(real):  # type: ignore[no-untyped-call]
        for position in account.balance:
            totals[(account.account, position.units.currency)] = position.units.number
    return totals


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    plugins = Plugins()
    assert plugins.destination("file_journal") is FileJournal
    row = next(row for row in plugins.describe() if row["name"] == "file_journal")
    assert row["version"] == "0.1.0"
    assert set(row["hooks"]) == {"register_destinations", "register_commands"}


def test_beancount_journal_is_valid_and_the_clearing_account_ends_at_the_payout(
    tmp_path: Path,
    store: ConformanceStore,
) -> None:
    destination = journal(store, tmp_path)
    for currency in ("SGD", "JPY", "KWD"):
        deliver(destination, document_chain(currency, serial=currency))
    totals = balances(tmp_path / "journal.beancount")
    for currency in ("SGD", "JPY", "KWD"):
        # charges 1200 - fees 35 - refunds 400 + a pre-sync charge 100 = the payout, 865
        assert ("Assets:Clearing", currency) not in totals  # the payout emptied it
        assert totals[("Assets:Bank", currency)] == Decimal(865)
        assert totals[("Equity:PayoutAdjustments", currency)] == Decimal(-100)
        assert totals[("Income:Sales", currency)] == Decimal(-1200)
        assert totals[("Expenses:PaymentFees", currency)] == Decimal(35)
        assert totals[("Liabilities:Refunds", currency)] == Decimal(400)
        assert ("Assets:AccountsReceivable", currency) not in totals  # nets to zero


def test_csv_journal_rows_balance_per_entry(tmp_path: Path, store: ConformanceStore) -> None:
    destination = journal(store, tmp_path, "journal.csv")
    deliver(destination, document_chain("KWD"))
    with (tmp_path / "journal.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    per_entry: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        per_entry[row["reference"]] += Decimal(row["debit"] or 0) - Decimal(row["credit"] or 0)
        assert Decimal(row["debit"] or row["credit"]).as_tuple().exponent == -3  # KWD
    assert len(per_entry) == len(document_chain("KWD"))
    assert set(per_entry.values()) == {Decimal(0)}


def test_a_key_already_written_is_never_written_again(
    tmp_path: Path, store: ConformanceStore
) -> None:
    documents = document_chain()
    deliver(journal(store, tmp_path), documents)
    again = journal(store, tmp_path)  # a new process
    assert deliver(again, documents) == {d.key: d.key for d in documents}
    assert sorted(read_beancount(tmp_path / "journal.beancount")) == sorted(
        d.key for d in documents
    )


def test_two_writers_at_once_write_each_entry_once(tmp_path: Path, store: ConformanceStore) -> None:
    documents = [d for serial in range(10) for d in document_chain(serial=str(serial))]
    writers = [journal(store, tmp_path, "journal.csv") for _ in range(2)]
    start = threading.Barrier(2)

    def run(writer: FileJournal) -> None:
        start.wait()
        deliver(writer, documents)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(read_csv(tmp_path / "journal.csv")) == sorted(d.key for d in documents)


@pytest.mark.parametrize("journal_format", ["beancount", "csv"])
def test_a_crash_mid_write_is_repaired_to_the_journal_without_the_crash(
    tmp_path: Path,
    journal_format: str,
    store: ConformanceStore,
) -> None:
    name = f"journal.{journal_format}"
    *earlier, last = document_chain()
    clean = tmp_path / "clean"
    clean.mkdir()
    (tmp_path / "before").mkdir()
    deliver(journal(store, clean, name), [*earlier, last])
    complete = (clean / name).read_bytes()
    deliver(journal(store, tmp_path / "before", name), earlier)
    before = (tmp_path / "before" / name).read_bytes()
    torn_block = complete[len(before) :]
    assert torn_block

    # Every byte of the date, and around each line end (where the format's structure is).
    line_ends = [index for index, byte in enumerate(torn_block) if byte == ord("\n")]
    cuts = {*range(12), *(end + step for end in line_ends for step in (-1, 0, 1))}
    for cut in sorted(c for c in cuts if 0 <= c < len(torn_block)):
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        (folder / name).write_bytes(before + torn_block[:cut])
        reopened = journal(store, folder, name)
        context = DeliveryContext(SETTINGS, {key: key for key in last.depends_on})
        assert reopened.find_existing(last, context) is None, cut
        assert all(reopened.find_existing(d, context) == d.key for d in earlier), cut
        reopened.deliver(last, context)
        assert (folder / name).read_bytes() == complete, cut
        torn = folder / f"{name}.torn"
        if cut:
            assert torn.read_bytes() == torn_block[:cut] + b"\n", cut  # nothing thrown away
        else:
            assert not torn.exists()


def test_a_torn_header_is_rewritten(tmp_path: Path, store: ConformanceStore) -> None:
    (tmp_path / "journal.csv").write_bytes(b"date,refer")
    deliver(journal(store, tmp_path, "journal.csv"), document_chain()[:1])
    assert read_csv(tmp_path / "journal.csv") == ["conformance:charge:1:invoice"]


def test_a_file_that_is_not_a_journal_is_never_touched(
    tmp_path: Path, store: ConformanceStore
) -> None:
    ledger = tmp_path / "main.beancount"
    ledger.write_text("2020-01-01 open Assets:Cash\n")
    destination = journal(store, tmp_path, "main.beancount")
    assert not destination.health().ok
    assert "not a ledgersync beancount journal" in destination.health().detail
    with pytest.raises(ConfigurationError, match="not a ledgersync beancount journal"):
        deliver(destination, document_chain()[:1])
    assert ledger.read_text() == "2020-01-01 open Assets:Cash\n"


def test_damage_in_the_middle_is_refused_not_truncated(
    tmp_path: Path, store: ConformanceStore
) -> None:
    deliver(journal(store, tmp_path, "journal.csv"), document_chain())
    path = tmp_path / "journal.csv"
    lines = path.read_text().splitlines(keepends=True)
    damaged = "".join([*lines[:3], "hand edit\n", *lines[3:]])
    path.write_text(damaged)
    with pytest.raises(ConfigurationError, match="damaged at byte"):
        journal(store, tmp_path, "journal.csv").find_existing(
            document_chain()[0], DeliveryContext(SETTINGS, {})
        )
    assert path.read_text() == damaged


def test_a_hand_appended_line_is_refused_not_truncated(
    tmp_path: Path, store: ConformanceStore
) -> None:
    deliver(journal(store, tmp_path), document_chain()[:1])
    path = tmp_path / "journal.beancount"
    path.write_bytes(path.read_bytes() + b"; my note")
    with pytest.raises(ConfigurationError, match="not an entry ledgersync wrote"):
        deliver(journal(store, tmp_path), document_chain()[1:2])
    assert path.read_bytes().endswith(b"; my note")


def test_validation_names_each_wrong_account_and_the_type_it_needs(
    tmp_path: Path, store: ConformanceStore
) -> None:
    destination = journal(store, tmp_path)
    destination.validate(AccountSettings())  # the defaults are a coherent chart
    wrong = AccountSettings(sales_account="Expenses:Sales", bank_account="Assets:clearing")
    with pytest.raises(ConfigurationError) as raised:
        destination.validate(wrong)
    message = str(raised.value)
    assert "'Expenses:Sales' is an Expenses account; the sales account must be an Income" in message
    assert "'Assets:clearing' is not a journal account name" in message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "the journal has no path"),
        ({"path": "books.txt"}, "cannot tell the journal format of 'books.txt'"),
        ({"path": "books.txt", "format": "xlsx"}, "unknown journal format 'xlsx'"),
    ],
)
def test_missing_or_wrong_config_is_a_clear_error(
    store: ConformanceStore, config: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FileJournal(store.context(config))


def test_health_says_why_a_path_cannot_be_written(tmp_path: Path, store: ConformanceStore) -> None:
    assert journal(store, tmp_path).health().ok
    missing = journal(store, tmp_path, "no-such-folder/journal.csv").health()
    assert not missing.ok
    assert "does not exist" in missing.detail


def test_a_missing_folder_is_a_transient_error_that_writes_nothing(
    tmp_path: Path, store: ConformanceStore
) -> None:
    destination = journal(store, tmp_path, "gone/journal.csv")
    with pytest.raises(TransientError, match=r"folder .*gone does not exist") as raised:
        deliver(destination, document_chain()[:1])
    assert not raised.value.sent
    assert not (tmp_path / "gone").exists()


def test_each_write_is_counted_as_a_call(tmp_path: Path, store: ConformanceStore) -> None:
    calls = CallCounter("destination")
    destination = FileJournal(store.context({"path": str(tmp_path / "j.csv")}, calls))
    deliver(destination, document_chain())
    assert calls.total == len(document_chain())


amounts = st.integers(min_value=1, max_value=10**9)


@given(
    charges=st.lists(st.tuples(amounts, st.integers(0, 10**6), st.integers(0, 100)), max_size=6),
    currency=st.sampled_from(["SGD", "JPY", "KWD"]),
)
def test_entries_balance_and_clearing_ends_at_charges_minus_fees_minus_refunds(
    charges: list[tuple[int, int, int]], currency: str
) -> None:
    accounts = JournalAccounts.from_settings(SETTINGS)
    payout = Decimal(0)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for serial, (amount, fee, refund_percent) in enumerate(charges):
        invoice, payment, expense, credit_note, credit_refund, *_payout = document_chain(
            currency, date(2026, 3, 1), serial=str(serial)
        )
        gross = max(quantize(Decimal(amount).scaleb(-2), currency), Decimal(1))
        fees = quantize(Decimal(fee).scaleb(-2), currency)
        refund = quantize(gross * refund_percent / 100, currency)
        documents = [replace(invoice, amount=gross), replace(payment, amount=gross)]
        if fees:
            documents.append(replace(expense, amount=fees))
        if refund:
            documents.append(replace(credit_note, amount=refund))
            documents.append(replace(credit_refund, amount=refund))
        for document in documents:
            entry = entry_for(document, accounts)
            assert sum(posting.amount for posting in entry.postings) == 0
            for posting in entry.postings:
                totals[posting.account] += posting.amount
        payout += gross - fees - refund
    assert totals["Assets:Clearing"] == payout
    assert totals["Assets:AccountsReceivable"] == 0


def test_the_harness_reads_the_journal_with_beancount_itself(tmp_path: Path) -> None:
    harness = JournalHarness(tmp_path, "beancount")
    deliver(harness.build(CallCounter("destination")), document_chain())
    assert len(harness.held_keys()) == len(document_chain())
