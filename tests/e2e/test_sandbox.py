"""`ledgersync demo --serve` as a newcomer runs it: a real process that keeps both stand-ins and
the web page up with connection 'demo' ready, answers the page and the CLI, and stops cleanly
on Ctrl-C (SIGINT) or SIGTERM; `demo --keep` leaves a store and key the CLI finds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.processes import started_with_sigint_ignored

from e2e.conftest import LEDGERSYNC
from plugins.hitpay_source.testing.kit import SALE_SECONDS_ENV

READY = "ledgersync sandbox ready: "


def _cli(
    db: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LEDGERSYNC), "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ | (env or {}),
        check=False,
    )


@contextmanager
def running_sandbox(
    tmp_path: Path, sale_seconds: str
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    # Started with SIGINT ignored, as from a script with `&`: Ctrl-C must stop it all the same.
    with started_with_sigint_ignored(
        [str(LEDGERSYNC), "demo", "--serve", "--port", "0", "--keep", str(tmp_path / "kept")],
        env=os.environ | {"PYTHONUNBUFFERED": "1", SALE_SECONDS_ENV: sale_seconds},
    ) as process:
        lines: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:  # ends at the ready line, or when the process exits
            lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                break
        assert lines and lines[-1].startswith(READY), "\n".join(lines) + process.stderr.read()
        yield process, lines


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """The sandbox with no new sales (so no event sync races the test's own commands)."""
    with running_sandbox(tmp_path, "0") as started:
        yield started


def test_demo_serve_keeps_the_page_and_both_standins_up_until_sigint(
    sandbox: tuple[subprocess.Popen[str], list[str]], tmp_path: Path
) -> None:
    process, lines = sandbox
    text = "\n".join(lines)
    url = lines[-1].removeprefix(READY).split()[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    login = re.search(r"user operator, password (\S+) \(made for this sandbox\)", text)
    assert login, text
    store = tmp_path / "kept" / "ledgersync.sqlite"
    db = f"sqlite:///{store}"
    assert f"export LEDGERSYNC_DB={db}" in text
    assert "  ledgersync sync demo" in text
    codes = re.search(r"grant codes it accepts \(.*?\): (\S+), (\S+), (\S+)$", text, re.M)
    assert codes, text

    # A grant code it printed (valid 60 s) reconnects the Zoho side by hand.
    roots = re.search(
        r"--accounts-url (\S+) --api-url (\S+) --organization (\d+) --requests-per-minute "
        r"(\d+) --grant-code CODE",
        text,
    )
    assert roots, text
    client = re.search(r"client id (\S+), client secret (\S+) ", text)
    assert client, text
    connected = _cli(
        db, "zoho", "connect", "demo", "--datacenter", "com", "--accounts-url", roots[1],
        "--api-url", roots[2], "--organization", roots[3], "--requests-per-minute", roots[4],
        "--grant-code", codes[1],
        env={"ZOHO_CLIENT_ID": client[1], "ZOHO_CLIENT_SECRET": client[2]},
    )  # fmt: skip
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert connected.stdout.startswith("Connected demo to Zoho Books organization")

    with urllib.request.urlopen(f"{url}login", timeout=30) as page:
        assert page.status == 200
        assert "password" in page.read().decode().lower()

    status = _cli(db, "status", "demo")
    assert status.returncode == 0, status.stderr
    assert "demo: active, enabled, bulk mode" in status.stdout
    synced = _cli(db, "sync", "demo")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.startswith("Sync of demo: succeeded"), synced.stdout
    assert "created:" in synced.stdout

    assert re.search(r"^HitPay stand-in: API http://127\.0\.0\.1:\d+, API key \w+ ", text, re.M)

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.strip().endswith(
        f"Sandbox stopped. The store is kept in {store.parent}: ledgersync --db {db} status"
    )
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}login", timeout=5)
    after = _cli(db, "ledger", "demo", "--json")
    assert after.returncode == 0, after.stderr  # the kept store and its key, found by the CLI


def test_sigterm_stops_the_sandbox_cleanly_too(
    sandbox: tuple[subprocess.Popen[str], list[str]],
) -> None:
    process, _lines = sandbox
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Sandbox stopped." in out and "Traceback" not in err


def test_demo_keep_leaves_a_store_and_key_the_cli_finds(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    demo = subprocess.run(
        [str(LEDGERSYNC), "demo", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["ledgersync.key", "ledgersync.sqlite"]
    db = f"sqlite:///{kept / 'ledgersync.sqlite'}"
    assert f"The store and its key stay in {kept}: ledgersync --db {db} status" in demo.stdout
    status = _cli(db, "status")
    assert status.returncode == 0, status.stderr
    assert "demo-bulk: active" in status.stdout and "demo-individual: active" in status.stdout
    settings = _cli(db, "settings", "demo-bulk")  # reads the vault-free settings
    assert settings.returncode == 0, settings.stderr
    again = subprocess.run(
        [str(LEDGERSYNC), "demo", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"Error: {kept} already holds a store (ledgersync.sqlite). Give --keep an empty or new "
        "folder (or delete that one's store and key first)."
    )


def test_the_sandbox_keeps_selling_and_its_webhooks_reach_the_page(tmp_path: Path) -> None:
    """The stand-in's new sales arrive as signed webhooks at the sandbox's page: stored as
    events, and an event sync runs (in Bulk mode it refreshes the records; the day is booked
    once closed)."""
    with running_sandbox(tmp_path, "1") as (process, lines):
        text = "\n".join(lines)
        assert "HitPay stand-in webhooks: a new sale every 1 s" in text, text
        db = re.search(r"export LEDGERSYNC_DB=(\S+)", text)
        assert db, text
        deadline = time.monotonic() + 120
        while True:  # a bounded wait on observable state: the event sync's run
            history = _cli(db[1], "history", "demo", "--json")
            assert history.returncode == 0, history.stderr
            runs = json.loads(history.stdout)
            if any(r["trigger"] == "event" and r["outcome"] == "succeeded" for r in runs):
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.5)
        status = json.loads(_cli(db[1], "status", "demo", "--json").stdout)
        shown = status[0] if isinstance(status, list) else status
        assert shown["last_event_at"], shown
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Traceback" not in err and "Sandbox stopped" in out
