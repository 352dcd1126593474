"""First syncs through the CLI, in each mode, against the HitPay and Zoho Books stand-ins:
what lands in the books ties out with HitPay, a second sync creates nothing, the hourly
manual limit and --force, --dry-run, the reports, and progress only on a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from support.clock import clear_of

from core import clock
from core.store.models import DocumentRow
from e2e.conftest import (
    LEDGERSYNC,
    NOTIFY,
    PER_MINUTE,
    TIMEZONE,
    ZOHO_ENV,
    Shop,
    local_midnight,
    one_line_error,
    seed_sales,
    sums,
)

ZONE = ZoneInfo(TIMEZONE)


def fee(charge: dict[str, Any]) -> Decimal:
    return Decimal(str(charge["fixed_fee"])) + Decimal(str(charge["discount_fee"]))


def assert_ties_out(shop: Shop, since: datetime, until: datetime) -> None:
    """Per currency: invoices = payments = charges, expenses = fees, credit notes = credit
    refunds = refunds, and the clearing account = charges - fees - refunds."""
    totals = shop.totals(since, until)
    books = shop.books()
    charges = {c: t.charges for c, t in totals.items() if t.charges}
    fees = {c: t.fees for c, t in totals.items() if t.fees}
    refunds = {c: t.refunds for c, t in totals.items() if t.refunds}
    assert sums(books, "invoice") == charges
    assert sums(books, "payment") == charges
    assert sums(books, "expense") == fees
    assert sums(books, "credit_note") == refunds
    assert sums(books, "credit_refund") == refunds
    expected = {c: t.charges - t.fees - t.refunds for c, t in totals.items()}
    assert shop.clearing() == expected


def kinds(books: list[Any]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for document in books:
        counted[document["kind"]] = counted.get(document["kind"], 0) + 1
    return counted


def test_first_bulk_sync_through_the_cli_ties_out_and_a_second_creates_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clear_of(monkeypatch, [("UTC", time(0))])  # API calls are counted per UTC day
    day0 = local_midnight(now, 3)
    charges = seed_sales(shop.charges_api, day0)
    api = shop.charges_api
    connected = shop.cli(
        "hitpay", "connect", "shop", "--api-key", api.api_key, "--api-url", api.url,
        "--timezone", TIMEZONE,
    )  # fmt: skip
    assert connected.exit_code == 0, connected.output
    assert api.api_key not in connected.output
    org = shop.zoho_api.create_organization("Shop Pte Ltd")
    shop.adopt(org)
    zoho = shop.cli(
        "zoho", "connect", "shop", "--datacenter", "com",
        "--accounts-url", shop.zoho_api.accounts_url, "--api-url", shop.zoho_api.api_url,
        "--grant-code", shop.zoho_api.issue_grant_code(), "--organization", org.organization_id,
        "--requests-per-minute", str(PER_MINUTE),
    )  # fmt: skip
    assert zoho.exit_code == 0, zoho.output
    settings = shop.cli(
        "settings", "shop", "--sales-account", org.sales_account,
        "--fee-account", org.fee_account, "--refund-account", org.refund_account,
        "--bank-account", org.bank_account, "--item", org.item, "--notify-email", NOTIFY,
    )  # fmt: skip
    assert settings.exit_code == 0, settings.output
    assert "Settings of shop saved." in settings.output
    enabled = shop.cli("enable", "shop", "--since", day0.isoformat())
    assert enabled.exit_code == 0, enabled.output
    assert "(back-fill)" in enabled.output

    first = shop.cli("sync", "shop")

    assert first.exit_code == 0, first.output
    assert "Sync of shop: succeeded" in first.output
    assert "created: 2 credit_note, 2 credit_refund, 4 expense, 4 invoice, 4 payment" in (
        first.output
    )
    books = shop.books()
    # Bulk: per local day and currency one invoice + payment; fees per day and fee currency;
    # one credit note (and its refund from the clearing account) per refund day.
    assert kinds(books) == {
        "invoice": 4, "payment": 4, "expense": 4, "credit_note": 2, "credit_refund": 2,
    }  # fmt: skip
    days = {day0.date().isoformat(), (day0 + timedelta(days=1)).date().isoformat()}
    assert {d["date"] for d in books if d["kind"] == "invoice"} == days
    assert all(d["status"] == "paid" for d in books if d["kind"] == "invoice")
    assert_ties_out(shop, day0, now)
    sgd = (charges[0], charges[3], charges[4])
    sgd_fees = sum((fee(c) for c in sgd), Decimal(0))
    assert shop.clearing()["SGD"] == Decimal("215.25") - sgd_fees - Decimal("100.00")

    why = shop.cli("why", "shop", charges[0]["id"]).output.splitlines()
    remote = {d["reference_number"]: d["id"] for d in books}
    day = day0.date().isoformat()
    assert (
        why[1]
        == f"  invoice hitpay:day:{day}:SGD:1:invoice: remote id "
        + (remote[f"hitpay:day:{day}:SGD:1:invoice"])
    )
    assert why[4].startswith("  Refund ") and why[4].endswith(
        " (20.00 SGD, " + (f"{(day0 + timedelta(hours=15)).astimezone(ZONE):%Y-%m-%d %H:%M %Z}):")
    )
    credit_note = next(
        k
        for k in remote
        if k.startswith(f"hitpay:day:{day}:refunds:") and k.endswith(":credit_note")
    )
    assert f"    credit_note {credit_note}: remote id {remote[credit_note]}" in why

    refused = shop.cli("sync", "shop")
    assert refused.exit_code == 1
    line = one_line_error(refused.output)
    assert "manual sync is allowed once per hour; the next is allowed at" in line
    assert "Use --force to override." in line

    forced = shop.cli("sync", "shop", "--force")
    assert forced.exit_code == 0, forced.output
    assert "created:" not in forced.output
    assert shop.books() == books

    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [(run["trigger"], run["forced"], run["outcome"]) for run in history] == [
        ("manual", True, "succeeded"),
        ("manual", False, "succeeded"),
    ]
    first_run = history[1]
    assert first_run["counts"]["delivered"] == kinds(books)
    assert first_run["counts"]["planned"] == kinds(books)
    assert first_run["api_calls"] > sum(kinds(books).values())
    assert first_run["quarantined"] == 0
    assert history[0]["counts"]["delivered"] == {}
    text_history = shop.cli("history", "shop").output
    assert "manual forced: succeeded; created nothing new" in text_history

    status = json.loads(shop.cli("status", "shop", "--json").output)
    assert status["status"] == "active"
    assert status["enabled"] is True
    assert status["mode"] == "bulk"
    assert status["channels"] == "all"
    last_sync = datetime.fromisoformat(status["last_sync"])
    assert now <= last_sync <= clock.now()
    next_manual = datetime.fromisoformat(status["next_manual_sync_allowed"])
    assert next_manual == datetime.fromisoformat(history[0]["started_at"]) + timedelta(hours=1)
    scheduled = datetime.fromisoformat(status["next_scheduled_sync"])
    assert scheduled.astimezone(ZONE).strftime("%H:%M") == "02:00"
    assert last_sync < scheduled <= last_sync + timedelta(days=1)
    assert status["api_calls_today"] >= first_run["api_calls"] + history[0]["api_calls"]
    assert status["quarantined"] == 0
    assert status["unknown_channels"] == {}

    ledger = json.loads(shop.cli("ledger", "shop", "--json").output)
    remote = {d["reference_number"]: d for d in books}
    assert len(ledger) == len(books)
    for entry in ledger:
        document = remote[entry["key"]]
        assert entry["remote_id"] == document["id"]
        assert (entry["kind"], entry["state"]) == (document["kind"], "delivered")
        assert Decimal(entry["amount"]) == document["amount"]
        assert entry["currency"] == document["currency"]
    rows = list(csv.DictReader(io.StringIO(shop.cli("ledger", "shop", "--csv").output)))
    assert [(r["key"], r["remote_id"]) for r in rows] == [
        (e["key"], e["remote_id"]) for e in ledger
    ]


def test_first_individual_sync_in_a_real_process(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    charges = seed_sales(shop.charges_api, day0)
    shop.connect()

    mode = shop.run("settings", "shop", "--mode", "individual")
    assert mode.returncode == 0, mode.stderr
    enabled = shop.run("enable", "shop", "--since", day0.isoformat())
    assert enabled.returncode == 0, enabled.stderr
    first = shop.run("sync", "shop", "--json")

    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # no progress, no log noise when not on a terminal
    report = json.loads(first.stdout)
    assert report["outcome"] == "succeeded"
    assert report["created"] == {
        "invoice": 5, "payment": 5, "expense": 5, "credit_note": 2, "credit_refund": 2,
    }  # fmt: skip
    books = shop.books()
    invoices = {d["reference_number"]: d for d in books if d["kind"] == "invoice"}
    for charge in charges:
        invoice = invoices[f"hitpay:charge:{charge['id']}:invoice"]
        assert invoice["amount"] == Decimal(str(charge["amount"]))
        assert invoice["currency"] == charge["currency"].upper()
        local_day = datetime.fromisoformat(charge["created_at"]).astimezone(ZONE).date()
        assert invoice["date"] == local_day.isoformat()
    assert_ties_out(shop, day0, now)

    again = shop.run("sync", "shop")
    assert again.returncode == 1
    assert one_line_error(again.stderr).startswith("Error: manual sync is allowed once per hour")
    assert again.stdout == ""
    forced = shop.run("sync", "shop", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["created"] == {}
    assert shop.books() == books

    status = json.loads(shop.run("status", "shop", "--json").stdout)
    assert (status["mode"], status["enabled"], status["status"]) == ("individual", True, "active")


def test_dry_run_prints_the_plan_and_writes_nothing_remote_nor_in_the_outbox(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 3)
    seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(since=day0, now=now)
    posts_before = len(shop.zoho_api.api_requests("POST"))

    dry = shop.cli("sync", "shop", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written to the destination. The plan:" in dry.output
    planned = [
        line.split()[0] for line in dry.output.splitlines() if line.startswith("    hitpay:")
    ]
    assert len(planned) == 16
    assert shop.books() == []
    assert len(shop.zoho_api.api_requests("POST")) == posts_before
    with shop.host.database.session() as session:
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 0
    assert shop.row().last_manual_sync_at is None

    real = shop.cli("sync", "shop")  # a dry run does not count against the hourly limit

    assert real.exit_code == 0, real.output
    assert sorted(d["reference_number"] for d in shop.books()) == sorted(planned)
    history = json.loads(shop.cli("history", "shop", "--json").output)
    assert [run["dry_run"] for run in history] == [False, True]


def test_progress_is_shown_on_a_terminal_only(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect(mode="individual")
    shop.enable(since=day0, now=now)

    quiet = shop.cli("sync", "shop", "--dry-run")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert "\r" not in quiet.output

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(LEDGERSYNC), "--db", shop.db_url, "sync", "shop"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=os.environ | ZOHO_ENV,
        )
        os.close(terminal)
        terminal = -1
        stdout, _ = process.communicate(timeout=120)
        shown = _read_all(controller)
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert process.returncode == 0, shown
    assert "Sync of shop: succeeded" in stdout
    assert "\r" not in stdout
    assert "\r  fetching records " in shown
    # 5 invoices, payments and expenses; 2 credit notes and credit refunds
    assert "\r  delivering       [" + "-" * 30 + "] 0/19" in shown
    assert "\r  delivering       [" + "#" * 30 + "] 19/19" in shown


def _read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
