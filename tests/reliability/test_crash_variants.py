"""The crash sweep against every Zoho Books stand-in variant the public evidence leaves open.

Where the evidence disagrees or is silent, each plausible behaviour is a setting of the stand-in
(issue 13): customer payments listed under ``customerpayments`` (the live API) or
``customer_payments`` (Zoho's OpenAPI document), and a ``reference_number`` filter that matches
exactly, by "contains", or is ignored (every row returned). Against each, a full Individual and
a full Bulk sync is stopped at a Zoho Books write (before it is sent, or committed with its
answer lost) and as a real ``kill -9`` while a request is held, then synced again until done;
the books must equal the uninterrupted run's exactly.

``LEDGERSYNC_RELIABILITY_FULL=1`` runs every write of every variant (and every kill point);
by default each variant tries the first customer payment (where a wrong list key broke the
books), the first credit refund and one more write drawn per variant, and one kill point.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from core import clock
from plugins.zoho_books.testing.standin.server import PAYMENT_LIST_KEYS, REFERENCE_FILTERS
from reliability.crashes import WHEN
from reliability.reference import MODES, Reference, run_reference
from reliability.tally import tally
from reliability.test_crash_points import kill_at, survive_in_process

VARIANTS = [
    {"payments_list_key": key, "reference_filter": match}
    for key in PAYMENT_LIST_KEYS
    for match in REFERENCE_FILTERS
]
IDS = [f"{v['payments_list_key']}-{v['reference_filter']}" for v in VARIANTS]
WRITES = ("POST", "PUT", "DELETE")


def zoho_writes(reference: Reference) -> list[tuple[str, str]]:
    return [(m, url) for m, url in reference.requests if m in WRITES and "/books/v3/" in url]


def first(requests: list[tuple[str, str]], ending: str) -> int:
    """The 1-based number of the first POST whose path ends so."""
    return next(
        n
        for n, (method, url) in enumerate(requests, 1)
        if method == "POST" and url.endswith(ending)
    )


def write_points(writes: list[tuple[str, str]], full: bool, seed: str) -> list[int]:
    if full:
        return list(range(1, len(writes) + 1))
    payment = first(writes, "/customerpayments")
    refund = first(writes, "/refunds")
    others = [n for n in range(1, len(writes) + 1) if n not in (payment, refund)]
    return sorted({payment, refund, random.Random(seed).choice(others)})


@pytest.mark.vendor_fact("zoho.list_key.customerpayments", "zoho.filter.reference_number_semantics")
@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("mode", MODES)
def test_a_sync_stopped_at_a_write_is_finished_exactly_against_every_variant(
    mode: str,
    when: str,
    variant: dict[str, str],
    references: dict[str, Reference],
    fresh_db: Callable[[], str],
    full: bool,
) -> None:
    reference = references[mode]
    writes = zoho_writes(reference)
    failures = []
    for k in write_points(writes, full, f"{mode}-{when}-{variant}"):
        try:
            problem = survive_in_process(
                fresh_db(), mode, k, when, reference.books, writes_only=True, **variant
            )
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"write {k} {writes[k - 1]}:\n{problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize("mode", MODES)
def test_a_killed_sync_is_finished_exactly_against_every_variant(
    mode: str, variant: dict[str, str], fresh_db: Callable[[], str], full: bool
) -> None:
    """A real ``ledgersync sync`` process killed while a request is held, the stand-in
    committing it (odd points) or not; by default at the first customer payment, committed."""
    anchor = clock.now()
    reference = run_reference(fresh_db(), mode, None, anchor)
    requests = [(m, url) for m, url in reference.requests if "/oauth/" not in url]
    points = list(range(1, len(requests) + 1)) if full else [first(requests, "/customerpayments")]
    failures = []
    for k in points:
        commit = k % 2 == 1 or not full
        try:
            problem = kill_at(fresh_db(), mode, k, reference.books, commit, anchor, **variant)
        except AssertionError as error:
            problem = str(error)
        tally.crash_point(survived=not problem)
        if problem:
            failures.append(f"k={k} commit={commit}:\n{problem}")
    assert not failures, "\n".join(failures)
