"""A repost stopped dead at any write (every DELETE of its rollback, every POST of its sync),
before the request is sent or after Zoho committed it and the answer was lost, is finished by
running the same repost again: the books equal an uninterrupted repost's, no document left
behind, none twice.

The small data set is synced under the first fee account; the fee account is then changed and
the whole span reposted. The uninterrupted repost is the reference; so is, for the property,
a fresh sync made under the new settings from the start."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import date, datetime

import pytest

from core import clock
from core.connections.settings import SettingsChange, change_settings
from core.sync.undo import Scope, repost
from reliability.crashes import WHEN, CrashAt, Gate, SimulatedCrash
from reliability.reference import MODES, NOW, check_books
from reliability.system import CONNECTION, Books, System, small_data_set
from reliability.tally import tally
from reliability.test_crash_points import ledgersync_command

NEW_FEE_ACCOUNT = "Card fees"


def _new_fee_account(system: System) -> str:
    with system.zoho.lock:
        org = system.zoho.organization(system.org.organization_id)
        return org.add_account(NEW_FEE_ACCOUNT, "expense")


def _synced(system: System, anchor: datetime = NOW) -> tuple[Scope, str]:
    data = small_data_set(anchor)
    assert data.since is not None
    system.connect(data)
    fees = _new_fee_account(system)
    report = system.sync()
    assert report.outcome == "succeeded" and not report.pending, report.error
    change_settings(system.host, CONNECTION, SettingsChange(fee_account=fees))
    return Scope(since=date(2000, 1, 1)), fees


def _repost(system: System, scope: Scope) -> str:
    report = repost(system.host, CONNECTION, scope, now=system.now())
    sync = report.sync
    if report.outcome != "succeeded" or sync is None or sync.outcome != "succeeded":
        return f"{report.outcome} {report.error} {sync.outcome if sync else ''}"
    return "" if not sync.pending else f"{sync.pending} pending"


def _reference(db_url: str, mode: str) -> tuple[int, Books]:
    with System(db_url, start=NOW, mode=mode) as system:
        scope, fees = _synced(system)
        before = system.books()
        with CrashAt(None, zoho=system.zoho, writes_only=True) as counting:
            assert _repost(system, scope) == ""
        books = system.books()
        assert books.duplicates() == 0
        assert books != before  # the expenses moved to the new fee account
        expenses = [dict(row[1:]) for row in books.rows["expenses"]]
        assert {row["account_id"] for row in expenses} == {fees}
        return counting.counted, books


def _fresh(db_url: str, mode: str) -> Books:
    """The books a sync makes under the new settings from the start."""
    with System(db_url, start=NOW, mode=mode) as system:
        system.connect(small_data_set(NOW))
        fees = _new_fee_account(system)
        change_settings(system.host, CONNECTION, SettingsChange(fee_account=fees))
        system.sync_until_done()
        return system.books()


@pytest.mark.parametrize("mode", MODES)
def test_a_repost_books_exactly_what_a_fresh_sync_under_the_new_settings_books(
    mode: str, fresh_db: Callable[[], str]
) -> None:
    _writes, reposted = _reference(fresh_db(), mode)
    fresh = _fresh(fresh_db(), mode)
    assert reposted == fresh, reposted.diff(fresh)


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("mode", MODES)
def test_a_repost_stopped_at_any_write_is_finished_by_the_same_repost(
    mode: str, when: str, fresh_db: Callable[[], str], full: bool
) -> None:
    """Every write with LEDGERSYNC_RELIABILITY_FULL=1 (25 per mode); by default every third,
    the first and the last (each kind of deletion and creation is among them)."""
    writes, books = _reference(fresh_db(), mode)
    assert writes >= 10  # the rollback's deletions and the sync's creations
    points = range(1, writes + 1) if full else sorted({1, writes, *range(2, writes, 3)})
    failures = []
    for k in points:
        with System(fresh_db(), start=NOW, mode=mode) as system:
            scope, _fees = _synced(system)
            with (
                CrashAt(k, when, system.zoho, writes_only=True) as crash,
                pytest.raises(SimulatedCrash),
            ):
                _repost(system, scope)
            assert crash.fired is not None
            problem = _repost(system, scope)
            problem = problem or check_books(system, books)
            tally.crash_point(survived=not problem)
            if problem:
                failures.append(f"k={k} {crash.fired}:\n{problem}")
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- kill -9


def _kill_reference(
    db_url: str, mode: str, anchor: datetime
) -> tuple[list[tuple[str, str]], Books]:
    with System(db_url, mode=mode) as system:  # real time, as the process sees it
        scope, _fees = _synced(system, anchor)
        with CrashAt(None) as counting:
            assert _repost(system, scope) == ""
        sent = [what for what in counting.sent if "/oauth/" not in what[1]]
        return sent, system.books()


def _kill_at(db_url: str, mode: str, k: int, commit: bool, anchor: datetime, books: Books) -> str:
    """`ledgersync repost` as a process, SIGKILLed while its request k is held; the same
    repost then finishes it."""
    with System(db_url, mode=mode) as system:
        scope, _fees = _synced(system, anchor)
        gate = Gate(k, system.hitpay, system.zoho)
        process = subprocess.Popen(
            [*ledgersync_command(), "repost", CONNECTION, "--since", "2000-01-01", "--yes"],
            env={**os.environ, "LEDGERSYNC_DB": db_url},
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
        if not (alive and gate.held):
            return f"the repost ended before request {k}: {output}"
        return _repost(system, scope) or check_books(system, books)


@pytest.mark.parametrize("mode", MODES)
def test_a_real_repost_process_killed_at_a_delete_is_finished_by_the_same_repost(
    mode: str, fresh_db: Callable[[], str], full: bool
) -> None:
    anchor = clock.now()
    sent, books = _kill_reference(fresh_db(), mode, anchor)
    deletes = [k for k, (method, _url) in enumerate(sent, start=1) if method == "DELETE"]
    first_create = next(k for k, (method, _url) in enumerate(sent, start=1) if method == "POST")
    assert deletes and first_create > deletes[-1]  # every deletion before the sync books again
    points = deletes if full else sorted({deletes[0], deletes[len(deletes) // 2], deletes[-1]})
    failures = []
    for n, k in enumerate([*points, first_create]):
        commit = n % 2 == 0  # even points: the stand-in commits the dead process's request
        problem = _kill_at(fresh_db(), mode, k, commit, anchor, books)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {sent[k - 1]} commit={commit}:\n{problem}")
    assert not failures, "\n".join(failures)
