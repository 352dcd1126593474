"""A sync stopped dead at any request boundary: the next runs finish the books exactly.

For each mode, a full sync of a small data set (sales in two currencies over two days, fees,
a refund) makes N requests. For every k in 1..N the sync is stopped at request k, before it
is sent or after the destination committed it and the answer was lost, then synced again
until it reports done; the books must then equal the books of an uninterrupted run: the same
documents by reference number with the same amounts, dates, links and statuses, no extra
contact and the same clearing balance. A third kind kills a real ``ledgersync sync``
process with SIGKILL while request k is in flight (sampled unless the full sweep is asked).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core import clock
from core.store.models import DocumentRow
from core.sync.adoption import mark_adopted
from reliability.crashes import WHEN, CrashAt, Gate, SimulatedCrash
from reliability.reference import MODES, NOW, Reference, check_books, run_reference
from reliability.system import CONNECTION, Books, System, small_data_set
from reliability.tally import tally

KILL_SAMPLE = 3  # kill -9 points per mode in CI (plus the first and the last request)


CREATES = re.compile(r"/(invoices|customerpayments|expenses|creditnotes|creditnotes/\d+/refunds)$")


def survive_in_process(
    db_url: str,
    mode: str,
    k: int,
    when: str,
    expected: Books,
    *,
    writes_only: bool = False,
    **variant: str,
) -> str:
    """``variant``: the Zoho stand-in's ``payments_list_key`` / ``reference_filter``; with
    ``writes_only`` k counts Zoho Books writes only."""
    with System(db_url, start=NOW, mode=mode, **variant) as system:  # type: ignore[arg-type]
        system.connect(small_data_set(NOW))
        with (
            CrashAt(k, when, system.zoho, writes_only=writes_only) as crash,
            pytest.raises(SimulatedCrash),
        ):
            system.sync()
        assert crash.fired is not None
        reports = system.sync_until_done()
        method, url = crash.fired
        if when == "after_commit" and method == "POST" and CREATES.search(url):
            # the document was committed with its answer lost: found by key, not sent again
            assert sum(r.recovered for r in reports) >= 1, f"nothing recovered after {url}"
        return check_books(system, expected)


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("mode", MODES)
def test_a_sync_stopped_at_any_request_is_finished_exactly_by_the_next_runs(
    mode: str, when: str, references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    reference = references[mode]
    failures = []
    for k, request in enumerate(reference.requests, start=1):
        try:
            problem = survive_in_process(fresh_db(), mode, k, when, reference.books)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {request}:\n{problem}")
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- kill -9


def ledgersync_command() -> list[str]:
    script = Path(sys.executable).with_name("ledgersync")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from core.cli.main import main; main()"]


def kill_points(count: int, full: bool, mode: str) -> list[int]:
    if full:
        return list(range(1, count + 1))
    rng = random.Random(f"kill-{mode}")
    middle = rng.sample(range(2, count), KILL_SAMPLE)
    return sorted({1, *middle, count})


def kill_at(
    db_url: str,
    mode: str,
    k: int,
    expected: Books,
    commit: bool,
    anchor: datetime,
    **variant: str,
) -> str:
    """Run `ledgersync sync --force` as a process, SIGKILL it while request k is held."""
    with System(db_url, mode=mode, **variant) as system:  # type: ignore[arg-type]
        system.connect(small_data_set(anchor))
        gate = Gate(k, system.hitpay, system.zoho)
        env = {
            **os.environ,
            "LEDGERSYNC_DB": db_url,
            "LEDGERSYNC_LOAD_PLUGINS": os.environ.get("LEDGERSYNC_LOAD_PLUGINS", ""),
        }
        process = subprocess.Popen(
            [*ledgersync_command(), "sync", CONNECTION, "--force"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        ended = threading.Thread(target=lambda: (process.wait(), gate.arrived.set()), daemon=True)
        ended.start()
        gate.arrived.wait(timeout=120)
        alive = process.poll() is None
        if alive:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        output = process.stdout.read().decode() if process.stdout else ""
        gate.open(commit=commit)
        assert alive and gate.held, f"the sync ended before request {k}: {output}"
        assert process.returncode == -signal.SIGKILL
        system.sync_until_done()
        return check_books(system, expected)


@pytest.mark.parametrize("mode", MODES)
def test_a_real_sync_process_killed_at_a_request_is_finished_exactly_by_the_next_runs(
    mode: str, fresh_db: Callable[[], str], full: bool
) -> None:
    anchor = clock.now()
    reference = run_reference(fresh_db(), mode, None, anchor)  # real time, as the process sees
    count = sum(1 for _, url in reference.requests if "/oauth/" not in url)
    failures = []
    for k in kill_points(count, full, mode):
        commit = k % 2 == 1  # odd points: the stand-in commits the request of the dead process
        try:
            problem = kill_at(fresh_db(), mode, k, reference.books, commit, anchor)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} commit={commit}:\n{problem}")
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- the check


def test_the_sweep_sees_a_duplicate_when_an_interrupted_attempt_is_forgotten(
    references: dict[str, Reference], fresh_db: Callable[[], str]
) -> None:
    """The check can fail: make the host forget that an invoice was attempted (as a broken
    outbox would) and the re-sent invoice shows up as a duplicate reference number."""
    reference = references["individual"]
    k = next(
        n
        for n, (method, url) in enumerate(reference.requests, 1)
        if method == "POST" and url.endswith("/invoices")
    )
    with System(fresh_db(), start=NOW, mode="individual") as system:
        system.connect(small_data_set(NOW))
        with CrashAt(k, "after_commit", system.zoho), pytest.raises(SimulatedCrash):
            system.sync()
        with system.host.database.session() as session:
            session.execute(update(DocumentRow).values(attempts=0))
            connection_id = session.scalars(select(DocumentRow.connection_id)).first()
        assert connection_id is not None
        # and that its first pass had finished adopting (else the key listing finds the invoice)
        mark_adopted(system.host.database, connection_id, system.now())
        system.sync_until_done()
        books = system.books()
    assert books.duplicates() == 1
    assert books != reference.books
    assert books.missing_from(reference.books) == 0
    assert "extra invoices" in books.diff(reference.books)
