"""Every "now" comes from the one injected clock (core.clock): no code or test reads the wall clock.

A test that reads the wall clock passes or fails by the hour it runs at; product code that reads
it cannot be moved by the suite's ``LEDGERSYNC_TEST_INSTANT``. Durations (``time.monotonic``,
``time.perf_counter``) are not instants and are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("core", "plugins", "notifications", "tests")

# The only places allowed to read the wall clock, each with its reason.
ALLOWED = {
    "core/clock.py": "the one clock itself",
    "tests/support/tls.py": "certificate validity is checked by OpenSSL against the real clock",
}

WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) of every call that reads the wall clock in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.func.attr) in WALL_CLOCK:
            if node.func.attr in {"localtime", "gmtime"} and node.args:
                continue  # converting a given timestamp, not reading the clock
            found.append((node.lineno, f"{name}.{node.func.attr}()"))
    return found


def test_the_detector_finds_each_way_of_reading_the_wall_clock() -> None:
    source = (
        "import datetime as dt, time\nfrom datetime import datetime, date\n"
        "a = datetime.now(UTC)\nb = dt.datetime.utcnow()\nc = date.today()\n"
        "d = time.time()\ne = time.monotonic()\nf = time.gmtime(0)\n"
    )
    assert [call for _, call in wall_clock_reads(source)] == [
        "datetime.now()",
        "datetime.utcnow()",
        "date.today()",
        "time.time()",
    ]


def test_nothing_reads_the_wall_clock_but_the_injected_clock() -> None:
    offenders: list[str] = []
    checked = 0
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED or "/migrations/" in relative:
                continue
            checked += 1
            for line, call in wall_clock_reads(path.read_text(encoding="utf-8")):
                offenders.append(f"{relative}:{line}: {call} (use core.clock.now())")
    assert checked > 100
    assert not offenders, "\n".join(offenders)
