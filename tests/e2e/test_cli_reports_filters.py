"""The reports an operator reads after a sync: the ledger's header, totals and filters,
``why --json``, ``run-due --json``, a validated ``history --limit``, a time-stamped scheduler."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core import clock
from e2e.conftest import LEDGERSYNC, Shop, local_midnight, one_line_error, seed_sales

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


@pytest.fixture
def synced(shop: Shop) -> tuple[Shop, list[dict[str, object]]]:
    now = clock.now()
    day0 = local_midnight(now, 2)
    charges = seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(day0, now)
    first = shop.cli("sync", "shop")
    assert first.exit_code == 0, first.output
    return shop, charges


def test_the_ledger_has_a_header_and_totals_per_kind_and_currency(
    synced: tuple[Shop, list[dict[str, object]]],
) -> None:
    shop, _charges = synced
    rows = json.loads(shop.cli("ledger", "shop", "--json").output)
    text = shop.cli("ledger", "shop").output.splitlines()

    assert text[0].split() == ["date", "kind", "amount", "cur", "state", "remote", "id", "key"]
    assert len(text) == 1 + len(rows) + 1 + len({(r["kind"], r["currency"]) for r in rows})
    assert text[1 + len(rows)] == "Totals:"
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        expected[row["kind"], row["currency"]] += Decimal(row["amount"])
        counts[row["kind"], row["currency"]] += 1
    shown = {}
    for line in text[2 + len(rows) :]:
        kind, amount, currency, count, _ = line.split(maxsplit=4)
        shown[kind, currency] = (Decimal(amount), int(count.strip("(")))
    assert shown == {group: (expected[group], counts[group]) for group in expected}
    assert ("invoice", "JPY") in shown and ("invoice", "SGD") in shown


def test_the_ledger_filters_by_kind_and_dates(
    synced: tuple[Shop, list[dict[str, object]]],
) -> None:
    shop, _charges = synced
    rows = json.loads(shop.cli("ledger", "shop", "--json").output)
    days = sorted({r["date"] for r in rows})
    assert len(days) == 2

    invoices = json.loads(shop.cli("ledger", "shop", "--kind", "invoice", "--json").output)
    assert invoices == [r for r in rows if r["kind"] == "invoice"] and invoices
    first_day = json.loads(
        shop.cli("ledger", "shop", "--since", days[0], "--until", days[0], "--json").output
    )
    assert first_day == [r for r in rows if r["date"] == days[0]] and first_day
    later = json.loads(shop.cli("ledger", "shop", "--since", days[1], "--json").output)
    assert later == [r for r in rows if r["date"] >= days[1]] and later
    csv_text = shop.cli("ledger", "shop", "--kind", "payment", "--csv").output
    assert len(csv_text.splitlines()) == 1 + sum(r["kind"] == "payment" for r in rows)
    nothing = shop.cli("ledger", "shop", "--until", "2000-01-01")
    assert nothing.output == "No documents for shop with these filters.\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "2026-02-30"], "Invalid value for '--since'"),
        (["--kind", "receipt"], "Invalid value for '--kind'"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "is after --until 2026-11-01"),
    ],
)
def test_bad_ledger_filters_are_one_line(shop: Shop, args: list[str], expected: str) -> None:
    shop.connect()
    result = shop.cli("ledger", "shop", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert expected in result.output


def test_why_as_json(synced: tuple[Shop, list[dict[str, object]]]) -> None:
    shop, charges = synced
    text = shop.cli("why", "shop", str(charges[0]["id"])).output.splitlines()
    data = json.loads(shop.cli("why", "shop", str(charges[0]["id"]), "--json").output)
    assert data == {"connection": "shop", "charge_id": charges[0]["id"], "explanation": text}
    assert "is synced into:" in text[0]


def test_run_due_as_json(shop: Shop) -> None:
    shop.connect()
    assert json.loads(shop.cli("run-due", "--json").output) == []  # not enabled: not due
    now = clock.now()
    shop.enable(now - timedelta(days=3), now)
    due = json.loads(shop.cli("run-due", "--json").output)
    assert [(d["connection"], d["ran"], d["outcome"]) for d in due] == [("shop", True, "succeeded")]
    assert isinstance(due[0]["run_id"], int) and due[0]["error"] is None


@pytest.mark.parametrize("limit", ["0", "-5", "99999999999999999999999", "ten"])
def test_history_limit_is_range_checked(shop: Shop, limit: str) -> None:
    shop.connect()
    result = shop.cli("history", "shop", "--limit", limit)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Invalid value for '--limit'" in result.output


@pytest.mark.parametrize("interval", ["0", "-5", "99999999999999999999999"])
def test_scheduler_interval_is_range_checked(shop: Shop, interval: str) -> None:
    result = shop.cli("scheduler", "--interval", interval)
    assert result.exit_code == 2
    assert "Invalid value for '--interval'" in result.output


def test_scheduler_lines_carry_timestamps_and_sigint_stops_it(shop: Shop) -> None:
    shop.connect()
    before = clock.now().replace(microsecond=0)
    process = subprocess.Popen(
        [str(LEDGERSYNC), "--db", shop.db_url, "scheduler", "--interval", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    assert STAMP.match(first), first
    printed = datetime.fromisoformat(first.split()[0].replace("Z", "+00:00"))
    assert before <= printed <= clock.now()
    assert first.endswith("ledgersync scheduler: checking every 3600s. Ctrl-C to stop.\n")
    assert STAMP.match(rest) and rest.rstrip().endswith("Scheduler stopped."), rest
    assert "Traceback" not in errors


def test_zoho_connect_options_are_range_checked(shop: Shop) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    for option, value in [("--redirect-port", "70000"), ("--requests-per-minute", "-5")]:
        result = shop.cli("zoho", "connect", "shop", "--datacenter", "eu", option, value)
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{option}'" in result.output


@pytest.mark.parametrize("option", ["--accounts-url", "--api-url"])
def test_zoho_connect_refuses_plain_http_beyond_loopback(shop: Shop, option: str) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    result = shop.cli(
        "zoho", "connect", "shop", "--datacenter", "eu", option, "http://accounts.zoho.eu"
    )
    line = one_line_error(result.output)
    assert f"{option} 'http://accounts.zoho.eu' is not https" in line
    assert "plain http is accepted only for 127.0.0.1" in line


def test_hitpay_connect_says_loudly_when_it_assumes_utc(shop: Shop) -> None:
    key = shop.charges_api.api_key
    url = shop.charges_api.url
    assumed = shop.cli("hitpay", "connect", "shop", "--api-key", key, "--api-url", url)
    assert assumed.exit_code == 0, assumed.output
    assert "WARNING: no --timezone given, so UTC was ASSUMED" in assumed.stderr
    assert "ledgersync settings shop --timezone" in assumed.stderr
    given = shop.cli(
        "hitpay", "connect", "shop", "--api-key", key, "--api-url", url, "--timezone", "UTC"
    )
    assert given.exit_code == 0 and "WARNING" not in given.stderr
