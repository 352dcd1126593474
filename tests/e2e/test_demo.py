"""`ledgersync demo` as a newcomer runs it: a real process, no account, no network."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from e2e.conftest import LEDGERSYNC


def test_the_demo_prints_its_summary_and_everything_ties_out() -> None:
    demo = subprocess.run(
        [str(LEDGERSYNC), "demo"],
        capture_output=True,
        text=True,
        timeout=300,  # about 25 s on a laptop; CI machines are slower
        env=os.environ,
        check=False,
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    assert "Traceback" not in demo.stderr
    assert re.search(r"^ledgersync demo: hitpay -> zoho_books, \w+ \d{4}, time zone", out, re.M)
    for mode in (
        "Bulk mode (connection demo-bulk):",
        "Individual mode (connection demo-individual):",
    ):
        assert mode in out
    assert out.count("first sync: succeeded") == 2
    assert out.count("second sync created 0 documents (idempotent)") == 2
    currencies = re.findall(r"^  (SGD|USD|JPY) .*  ok$", out, re.M)
    assert sorted(currencies) == ["JPY", "JPY", "SGD", "SGD", "USD", "USD"]
    assert "MISMATCH" not in out
    assert out.rstrip().endswith(
        "Everything ties out: charges - fees - refunds - payouts = clearing account balance, "
        "and reconcile agrees."
    )
    assert out.count("payouts booked as transfers to the bank:") >= 2
    assert out.count("Reconcile of demo-") == 2 and "does NOT tie out" not in out


def test_without_the_standins_extra_the_demo_says_how_to_install_it(tmp_path: Path) -> None:
    """A real process where werkzeug cannot be imported (as without ``ledgersync[standins]``)."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['werkzeug'] = None\n")
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    }
    demo = subprocess.run(
        [str(LEDGERSYNC), "demo"], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stderr
    assert "the demo's stand-in servers are not installed" in demo.stderr
    assert "pip install 'ledgersync[standins]'" in demo.stderr
