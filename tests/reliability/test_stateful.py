"""The whole system as a hypothesis state machine: whatever happens, in whatever order.

Rules: new charges and refunds at HitPay, time passing (across business days), syncs, syncs
that crash at a random request (before it is sent, or after the destination committed it and
the answer was lost), disable and enable, mode switches, the Zoho grant revoked (the
connection fails, one e-mail) and a reconnect. After every step, against the Zoho Books
stand-in's books and the host's store:

- no reference number twice in the books, no contact twice;
- every document in the books is one the host planned, with the host's amount, and every
  document the host recorded as delivered is in the books;
- every synced charge's amount is in exactly one invoice (and in its payment), whose amount
  is the sum of its charges as HitPay states them;
- the clearing account = charges - fees - refunds of everything synced, from HitPay's own
  figures;
- nothing created while sync was disabled is synced;
- after a sync that reports done, every charge created while enabled before today (in the
  business's time zone) is synced, and so is every refund of a synced charge made before
  today: nothing is lost;
- one failure e-mail per failure episode.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from support.budget import examples
from support.smtp import MailServer

from core.connections.lifecycle import disable, enable
from core.connections.settings import SettingsChange, change_settings
from core.errors import SyncRefused
from core.scheduling.runner import run_due
from core.store.models import Assignment, DocumentRow, SourceRecord
from core.store.repository import get_connection
from core.sync.engine import SyncReport
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.system import CONNECTION, ZONE, System
from reliability.tally import tally

START = datetime(2026, 5, 4, 9, 30, tzinfo=ZONE)
OPS = "ops@shop.example"
EXCHANGE_RATES = {"usd": "1.35120", "jpy": "0.00880"}
STEP = timedelta(minutes=1)  # every event happens at a distinct minute


@dataclass
class ChargeTruth:
    charge_id: str
    currency: str  # upper case
    amount: Decimal
    fee: Decimal
    at: datetime
    refunded: Decimal = Decimal(0)


@dataclass
class RefundTruth:
    refund_id: str
    charge_id: str
    amount: Decimal
    at: datetime


def amounts(currency: str) -> st.SearchStrategy[Decimal]:
    if currency == "jpy":
        return st.integers(50, 500_000).map(Decimal)
    return st.integers(50, 500_000).map(lambda cents: Decimal(cents).scaleb(-2))


charges = st.sampled_from(["sgd", "sgd", "usd", "jpy"]).flatmap(
    lambda currency: st.tuples(st.just(currency), amounts(currency))
)


class WholeSystem(RuleBasedStateMachine):
    new_db: ClassVar[Callable[[], str]]
    mail: ClassVar[MailServer]
    seen: ClassVar[Counter[str]] = Counter()  # what the runs got to (they must not be idle)

    def __init__(self) -> None:
        super().__init__()
        self.system = System(self.new_db(), start=START, mode="bulk", notify_emails=(OPS,))
        self.system.__enter__()
        self.system.connect()
        self.periods: list[list[datetime | None]] = [[START, None]]
        self.charges: dict[str, ChargeTruth] = {}
        self.refunds: dict[str, RefundTruth] = {}
        self.enabled = True
        self.mode = "bulk"
        self.revoked = False
        self.failed = False
        self.episodes = 0
        self.mails_before = self.failure_mails()
        self.crashed = False
        self.tick()

    def teardown(self) -> None:
        self.system.__exit__(None, None, None)

    # -- the model ---------------------------------------------------------------------

    def tick(self) -> None:
        self.system.advance(STEP)

    @property
    def now(self) -> datetime:
        return self.system.now()

    def inside_a_period(self, at: datetime) -> bool:
        return any(
            start is not None and start <= at and (end is None or at < end)
            for start, end in self.periods
        )

    def start_of_today(self) -> datetime:
        local = self.now.astimezone(ZONE)
        return datetime.combine(local.date(), datetime.min.time(), tzinfo=ZONE)

    def failure_mails(self) -> int:
        subjects = [str(m.message["Subject"]) for m in self.mail.mailbox.received]
        return sum(f"connection {CONNECTION} failed" in s for s in subjects)

    # -- rules: the business -------------------------------------------------------------

    @initialize(mode=st.sampled_from(["bulk", "individual"]))
    def the_merchant_picks_a_mode(self, mode: str) -> None:
        if mode != self.mode:
            change_settings(self.system.host, CONNECTION, SettingsChange(mode=mode))
            self.mode = mode

    @rule(sale=charges)
    def a_customer_pays(self, sale: tuple[str, Decimal]) -> None:
        currency, amount = sale
        extra: dict[str, Any] = {}
        if currency in EXCHANGE_RATES:
            extra["exchange_rate"] = Decimal(EXCHANGE_RATES[currency])
        payload = self.system.hitpay.add_charge(
            amount=amount, currency=currency, created_at=self.now, **extra
        )
        fee = Decimal(str(payload["fixed_fee"])) + Decimal(str(payload["discount_fee"]))
        self.charges[payload["id"]] = ChargeTruth(
            payload["id"], currency.upper(), amount, fee, self.now
        )
        self.tick()

    @precondition(lambda self: any(c.refunded < c.amount for c in self.charges.values()))
    @rule(data=st.data())
    def a_customer_is_refunded(self, data: st.DataObject) -> None:
        open_charges = sorted(
            (c for c in self.charges.values() if c.refunded < c.amount), key=lambda c: c.at
        )
        charge = data.draw(st.sampled_from(open_charges), label="charge")
        unit = Decimal(1) if charge.currency == "JPY" else Decimal("0.01")
        left = int((charge.amount - charge.refunded) / unit)
        amount = data.draw(st.integers(1, left), label="units") * unit
        refund = self.system.hitpay.refund(charge.charge_id, amount, at=self.now)
        charge.refunded += amount
        self.refunds[refund["id"]] = RefundTruth(refund["id"], charge.charge_id, amount, self.now)
        self.tick()

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.system.advance(timedelta(hours=hours))

    @rule()
    def the_next_morning_comes(self) -> None:
        tomorrow = self.start_of_today() + timedelta(days=1, hours=9)
        self.system.advance(tomorrow - self.now)

    # -- rules: the operator -------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        try:
            report = self.system.sync()
        except SyncRefused:
            assert not self.enabled or self.failed, "a sync was refused for no reason"
            self.tick()
            return
        assert self.enabled and not self.failed, f"a sync ran while it must not: {report}"
        self.after_sync()
        self.judge(report)
        self.tick()

    @rule()
    def the_scheduler_runs(self) -> None:
        """`ledgersync run-due`: a health probe once a day, then the syncs that are due."""
        for result in run_due(self.system.host, self.now):
            assert result.report is not None, result.refused
            assert self.enabled and not self.failed, f"a sync ran while it must not: {result}"
            self.after_sync()
            self.judge(result.report)
        self.after_sync()  # the health probe may have found the revoked grant
        self.tick()

    def judge(self, report: SyncReport) -> None:
        """What a sync that ran must have done."""
        if self.revoked:
            assert report.outcome in ("failed", "succeeded"), report
            if report.outcome == "failed":
                assert self.failed, report.error
        else:
            assert (report.outcome, report.pending, report.failed_documents) == (
                "succeeded",
                0,
                [],
            ), report
            self.seen["delivered"] += sum(report.documents_delivered.values())
            self.seen["recovered"] += report.recovered
            self.check_nothing_lost()

    @rule(k=st.integers(1, 16), when=st.sampled_from(WHEN))
    def a_sync_crashes(self, k: int, when: str) -> None:
        try:
            with CrashAt(k, when, self.system.zoho) as crash:
                self.system.sync()
        except (SimulatedCrash, SyncRefused):
            pass
        self.crashed = crash.fired is not None
        self.seen["crashes"] += self.crashed
        self.after_sync()
        self.tick()

    @precondition(lambda self: self.enabled and not self.revoked and not self.failed)
    @rule(amount=st.integers(100, 99_999))
    def an_answer_is_lost_and_found_again(self, amount: int) -> None:
        """A sale; once its day has closed, the first write of the sync reaches Zoho Books but
        its answer is lost (the process dies); the next sync finds the document by its key."""
        self.a_customer_pays(("sgd", Decimal(amount) / 100))
        self.the_next_morning_comes()
        with (
            suppress(SimulatedCrash),
            CrashAt(1, "after_commit", self.system.zoho, writes_only=True) as crash,
        ):
            self.system.sync()
        self.seen["crashes"] += crash.fired is not None
        self.after_sync()
        self.tick()
        self.sync()

    @precondition(lambda self: self.enabled)
    @rule()
    def disable_sync(self) -> None:
        disable(self.system.host, CONNECTION, now=self.now)
        self.periods[-1][1] = self.now
        self.enabled = False
        self.tick()

    @precondition(lambda self: not self.enabled)
    @rule()
    def enable_sync(self) -> None:
        enable(self.system.host, CONNECTION, now=self.now)
        self.periods.append([self.now, None])
        self.enabled = True
        self.tick()

    @rule()
    def switch_mode(self) -> None:
        self.mode = "individual" if self.mode == "bulk" else "bulk"
        change_settings(self.system.host, CONNECTION, SettingsChange(mode=self.mode))
        self.tick()

    @precondition(lambda self: not self.revoked)
    @rule()
    def the_merchant_revokes_the_grant(self) -> None:
        token = self.system.vault().get("refresh_token")
        assert token
        self.system.zoho.revoke(token)
        self.revoked = True
        self.tick()

    @precondition(lambda self: self.revoked)
    @rule()
    def the_merchant_reconnects(self) -> None:
        self.system.connect_destination(reconnect=True)
        self.revoked = self.failed = False
        self.tick()

    def after_sync(self) -> None:
        with self.system.host.database.session() as session:
            status = get_connection(session, CONNECTION).status
        if status == "failed" and not self.failed:
            assert self.revoked, "the connection failed without a reason"
            self.failed = True
            self.episodes += 1
            self.seen["failure episodes"] += 1

    # -- invariants ----------------------------------------------------------------------

    def assigned(self) -> list[tuple[str, str, str, Decimal, str, str]]:
        """(key, kind, currency, amount, record kind, source id) of every planned document
        and each record in it."""
        with self.system.host.database.session() as session:
            rows = session.execute(
                select(
                    DocumentRow.key,
                    DocumentRow.kind,
                    DocumentRow.currency,
                    DocumentRow.amount,
                    SourceRecord.kind,
                    SourceRecord.source_id,
                )
                .join(Assignment, Assignment.document_id == DocumentRow.id)
                .join(SourceRecord, SourceRecord.id == Assignment.record_id)
            ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def keys_in_books(self) -> dict[str, tuple[Decimal, str]]:
        raw = self.system.raw_books()
        return {
            row["reference_number"]: (row["amount"], row["currency"])
            for section in ("invoices", "payments", "expenses", "credit_notes", "credit_refunds")
            for row in raw[section]
        }

    @invariant()
    def the_books_are_right(self) -> None:
        """Every invariant, after every step; a crash just survived is tallied by them."""
        crashed, self.crashed = self.crashed, False
        survived = False
        try:
            self.the_books_hold_each_document_once_as_planned()
            self.every_synced_charge_is_in_exactly_one_invoice_and_the_clearing_ties_out()
            self.one_failure_mail_per_failure_episode()
            survived = True
        finally:
            if crashed:
                tally.crash_point(survived)

    def the_books_hold_each_document_once_as_planned(self) -> None:
        """A document in the books is one the host delivered, or attempted and has not heard
        back from yet (it binds it by key next time), with the host's amount; a document
        the host recorded as delivered is in the books."""
        books = self.system.books()
        duplicates = books.duplicates()
        in_books = self.keys_in_books()
        with self.system.host.database.session() as session:
            store = {
                row.key: (row.state, row.attempts or 0, row.amount, row.currency)
                for row in session.scalars(select(DocumentRow))
            }
        strays = [key for key in in_books if key not in store]
        wrong = [
            key
            for key, (amount, currency) in in_books.items()
            if key in store and store[key][2:] != (amount, currency)
        ]
        unattempted = [k for k in in_books if k in store and store[k][:2] == ("planned", 0)]
        lost = [k for k, row in store.items() if row[0] == "delivered" and k not in in_books]
        tally.books(duplicates=duplicates, lost=len(lost))
        assert duplicates == 0, books.references()
        assert not strays and not wrong and not unattempted, (strays, wrong, unattempted)
        assert not lost, lost

    def every_synced_charge_is_in_exactly_one_invoice_and_the_clearing_ties_out(self) -> None:
        """Over what is in the books: each charge in one invoice (its amount in it), and the
        clearing account = charges - fees - refunds, as HitPay states them."""
        in_books = self.keys_in_books()
        invoices_of: dict[str, set[str]] = defaultdict(set)
        invoice_sums: dict[str, Decimal] = defaultdict(Decimal)
        clearing: dict[str, Decimal] = defaultdict(Decimal)
        for key, kind, currency, _, record_kind, source_id in self.assigned():
            if key not in in_books:
                continue
            if record_kind == "charge":
                charge = self.charges[source_id]
                assert self.inside_a_period(charge.at), f"{source_id} synced while disabled"
                if kind == "invoice":
                    invoices_of[source_id].add(key)
                    invoice_sums[key] += charge.amount
                elif kind == "payment":
                    clearing[currency] += charge.amount
                elif kind == "expense":
                    clearing[currency] -= charge.fee
            elif kind == "credit_refund":
                clearing[currency] -= self.refunds[source_id].amount
        assert all(len(keys) == 1 for keys in invoices_of.values()), invoices_of
        assert invoice_sums == {key: in_books[key][0] for key in invoice_sums}
        raw = self.system.raw_books()
        balance = raw["bank_balances"].get(self.system.org.bank_account, {})
        assert {c: a for c, a in balance.items() if a} == {c: a for c, a in clearing.items() if a}

    def one_failure_mail_per_failure_episode(self) -> None:
        assert self.failure_mails() - self.mails_before == self.episodes

    def check_nothing_lost(self) -> None:
        """After a sync that reports done: everything due is synced."""
        today = self.start_of_today()
        in_books = self.keys_in_books()
        synced = {source_id for key, *_, source_id in self.assigned() if key in in_books}
        due_charges = [
            c.charge_id
            for c in self.charges.values()
            if self.inside_a_period(c.at) and c.at < today
        ]
        due_refunds = [
            r.refund_id for r in self.refunds.values() if r.charge_id in synced and r.at < today
        ]
        missing = [i for i in (*due_charges, *due_refunds) if i not in synced]
        self.seen["due records checked"] += len(due_charges) + len(due_refunds)
        tally.books(duplicates=0, lost=len(missing))
        assert not missing, missing


def budget(full: bool) -> settings:
    return settings(
        max_examples=150 if full else examples(dev=30, ci=60),
        stateful_step_count=50 if full else examples(dev=30, ci=40),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
        derandomize=True,  # the same examples every run: CI and --full are reproducible
    )


def test_the_whole_system_keeps_its_books_whatever_happens(
    fresh_db: Callable[[], str], full: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MailServer() as mail:
        monkeypatch.setenv("LEDGERSYNC_SMTP_URL", f"smtp://127.0.0.1:{mail.port}")
        WholeSystem.new_db = staticmethod(fresh_db)  # type: ignore[assignment]
        WholeSystem.mail = mail
        WholeSystem.seen.clear()
        run_state_machine_as_test(WholeSystem, settings=budget(full))
    seen = WholeSystem.seen
    # The runs did get somewhere: documents delivered, crashes survived and recovered from,
    # a failed connection, and completeness checked on real records.
    print("stateful coverage:", dict(seen))
    for what in ("delivered", "crashes", "recovered", "failure episodes", "due records checked"):
        assert seen[what] > 0, (what, dict(seen))
