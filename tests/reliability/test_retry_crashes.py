"""A retry of rejected documents stopped dead at a write: the next runs finish it exactly.

A GST-registered organization, synced without a tax: Zoho adds the item's GST to each invoice
and the verified write leaves them as drafts, rejected. After `settings --tax`, the retry puts
them back in the outbox and the sync that follows corrects each draft in place (``PUT
/invoices/{id}``), marks it sent and sends what waited behind it. That sync is stopped at its
k-th Zoho Books write, before it is sent or after Zoho committed it with the answer lost; the
next syncs must give the books of an uninterrupted retry: no duplicate, nothing missing. CI
tries the draft corrections and the write after each; the full sweep every write.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.connections.settings import SettingsChange, change_settings
from core.sync.rejections import retry_rejected
from reliability.crashes import WHEN, CrashAt, SimulatedCrash
from reliability.reference import NOW, check_books
from reliability.system import CONNECTION, Books, System, small_data_set
from reliability.tally import tally


def rejected_then_fixed(db_url: str) -> System:
    """A system whose invoices were rejected, with the tax now set and the retry asked."""
    system = System(db_url, start=NOW, mode="individual", tax_registered=True)
    system.__enter__()
    system.connect(small_data_set(NOW))
    first = system.sync()
    assert len(first.failed_documents) == 3, first.failed_documents
    change_settings(system.host, CONNECTION, SettingsChange(tax=system.org.taxes["GST9 [SR]"]))
    assert len(retry_rejected(system.host, CONNECTION)) == 3
    return system


def reference(db_url: str) -> tuple[list[tuple[str, str]], Books]:
    system = rejected_then_fixed(db_url)
    try:
        with CrashAt(None, zoho=system.zoho, writes_only=True) as counter:
            system.sync_until_done()
        writes = [w for w in counter.sent if counter._is_zoho_write(w)]
        return writes, system.books()
    finally:
        system.__exit__(None, None, None)


def survive(db_url: str, k: int, when: str, expected: Books) -> str:
    system = rejected_then_fixed(db_url)
    try:
        with (
            CrashAt(k, when, system.zoho, writes_only=True) as crash,
            pytest.raises(SimulatedCrash),
        ):
            system.sync()
        assert crash.fired is not None
        system.sync_until_done()
        org = system.zoho.organization(system.org.organization_id)
        assert len(org.invoices) == 3, f"{len(org.invoices)} invoices after a crash at {k}"
        return check_books(system, expected)
    finally:
        system.__exit__(None, None, None)


@pytest.mark.parametrize("when", WHEN)
def test_a_retry_stopped_at_any_write_is_finished_exactly_by_the_next_runs(
    when: str, fresh_db: Callable[[], str], full: bool
) -> None:
    writes, expected = reference(fresh_db())
    corrections = [n for n, (method, _url) in enumerate(writes, start=1) if method == "PUT"]
    assert len(corrections) == 3, writes  # each draft corrected once, in place
    points = (
        range(1, len(writes) + 1)
        if full
        else sorted({*corrections, *(n + 1 for n in corrections[:1])})
    )
    failures = []
    for k in points:
        try:
            problem = survive(fresh_db(), k, when, expected)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} {writes[k - 1]}:\n{problem}")
    assert not failures, "\n".join(failures)
