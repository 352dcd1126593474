"""A repost stopped dead at any write (every DELETE of its rollback, every POST of its sync),
before the request is sent or after Zoho committed it and the answer was lost, is finished by
running the same repost again: the books equal an uninterrupted repost's, no document left
behind, none twice.

The small data set is synced under the first fee account; the fee account is then changed and
the whole span reposted. The uninterrupted repost is the reference; so is, for the property,
a fresh sync made under the new settings from the start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from core.connections.lifecycle import SettingsChange, change_settings
from core.sync.undo import Scope, repost
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import MODES, NOW, check_books
from reliability.system import CONNECTION, Books, System, small_data_set
from reliability.tally import tally

NEW_FEE_ACCOUNT = "Card fees"


def _new_fee_account(system: System) -> str:
    with system.zoho.lock:
        org = system.zoho.organization(system.org.organization_id)
        return org.add_account(NEW_FEE_ACCOUNT, "expense")


def _synced(system: System) -> tuple[Scope, str]:
    data = small_data_set(NOW)
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
