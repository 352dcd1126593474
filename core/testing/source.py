"""The source contract as checks: what every payment-gateway plugin must do.

A plugin author implements :class:`SourceHarness` (how to build the plugin, the window its
stand-in was seeded for, which records that window holds, how to slip in a malformed payload)
and runs :class:`core.testing.SourceConformance`, or calls the ``check_*`` functions directly.
Each check raises :class:`ConformanceFailure` with the rule it saw broken.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.contracts import ApiCallCounter, FetchWindow, Health, Source
from core.money import minor_units
from core.records import Charge, Fetched, Quarantined, Record, Refund
from core.store.repository import CallCounter
from core.testing.failures import ConformanceFailure
from core.testing.store import ConformanceStore

__all__ = [
    "RecordId",
    "SourceHarness",
    "check_health",
    "check_malformed_quarantined",
    "check_pagination_complete",
    "check_records_well_typed",
    "check_refetch_upserts",
    "check_stable_ids",
    "fetch_all",
    "record_id",
]

RecordId = tuple[str, str]  # (kind, source id)


class SourceHarness(ABC):
    """What the author of a source plugin supplies to run the source suite.

    One harness serves one test: build it in a fixture around a freshly seeded stand-in whose
    records in :meth:`window` span more than one page of the plugin's pagination.
    """

    @abstractmethod
    def build(self, calls: ApiCallCounter) -> Source:
        """A new instance of the plugin, as the host builds it for the test's connection."""

    @abstractmethod
    def window(self) -> FetchWindow:
        """The window to fetch: it covers the seeded records."""

    @abstractmethod
    def expected(self) -> set[RecordId]:
        """``(kind, source_id)`` of every well-formed record the window must yield
        (kind is ``"charge"`` or ``"refund"``)."""

    @abstractmethod
    def inject_malformed(self) -> str | None:
        """Make the stand-in return one malformed payload among the good ones (a missing
        amount, an unknown currency, ...). Return its source id, or None if it has none."""

    def served_requests(self) -> int | None:
        """How many API requests the stand-in has served so far; None when unknown."""
        return None

    def make_unhealthy(self) -> bool:
        """Break the source (revoke the key). Return False when the harness cannot."""
        return False

    def store(self) -> ConformanceStore | None:
        """A store for the re-fetch check (usually ``ConformanceStore(tmp_path)``), or None
        to skip that check."""
        return None


def record_id(item: Record) -> RecordId:
    return (item.kind, item.source_id)


def fetch_all(
    source: Source, window: FetchWindow, state: dict[str, Any] | None = None
) -> list[Fetched | Quarantined]:
    """Everything one fetch yields, in order."""
    return list(source.fetch(window, state if state is not None else {}))


def _records(items: Iterable[Fetched | Quarantined]) -> list[Record]:
    return [item for item in items if isinstance(item, Charge | Refund)]


def _describe(ids: Iterable[RecordId], limit: int = 5) -> str:
    listed = sorted(ids)
    shown = ", ".join(f"{kind} {source_id}" for kind, source_id in listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")


def check_pagination_complete(harness: SourceHarness) -> None:
    """Every seeded record in the window comes back, across all pages, once."""
    expected = harness.expected()
    if len(expected) < 2:
        raise ConformanceFailure("the harness must seed several records across several pages")
    calls = CallCounter("source")
    served_before = harness.served_requests()
    items = fetch_all(harness.build(calls), harness.window())
    served_after = harness.served_requests()
    fetched = [record_id(record) for record in _records(items)]
    missing = expected - set(fetched)
    if missing:
        raise ConformanceFailure(
            f"{len(missing)} of {len(expected)} seeded records did not come back: "
            f"{_describe(missing)}"
        )
    if served_before is not None and served_after is not None:
        served = served_after - served_before
        if served < 2:
            raise ConformanceFailure(
                f"the fetch took {served} request(s): seed the harness across several pages"
            )
        if calls.total != served:
            raise ConformanceFailure(
                f"the stand-in served {served} requests but the plugin counted {calls.total}; "
                "call context.calls.count() once per request"
            )


def _check_money(where: str, amount: object, currency: str) -> None:
    if not isinstance(amount, Decimal):
        raise ConformanceFailure(f"{where} is a {type(amount).__name__}, not a Decimal")
    exponent = amount.as_tuple().exponent
    if exponent != -minor_units(currency):
        raise ConformanceFailure(
            f"{where} {amount} is not at {currency}'s precision of {minor_units(currency)} "
            "decimals: use core.money.parse_amount"
        )


def _check_aware(where: str, moment: object) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ConformanceFailure(f"{where} {moment!r} is not a time-zone-aware datetime")


def check_records_well_typed(harness: SourceHarness) -> None:
    """Only Charge, Refund or Quarantined; Decimal money at precision; aware datetimes;
    charges inside the window; a JSON-serialisable bookmark."""
    window = harness.window()
    state: dict[str, Any] = {}
    items = fetch_all(harness.build(CallCounter("source")), window, state)
    for item in items:
        if isinstance(item, Charge):
            where = f"charge {item.source_id}"
            _check_money(f"{where} amount", item.amount, item.currency)
            _check_money(f"{where} fee", item.fee, item.fee_currency)
            _check_aware(f"{where} created_at", item.created_at)
            if not window.start <= item.created_at < window.end:
                raise ConformanceFailure(
                    f"{where} was created at {item.created_at.isoformat()}, outside the window "
                    f"[{window.start.isoformat()}, {window.end.isoformat()})"
                )
        elif isinstance(item, Refund):
            where = f"refund {item.source_id}"
            _check_money(f"{where} amount", item.amount, item.currency)
            _check_aware(f"{where} created_at", item.created_at)
        elif isinstance(item, Quarantined):
            if not item.reason:
                raise ConformanceFailure(f"quarantined item {item.source_id} has no reason")
        else:
            raise ConformanceFailure(
                f"fetch() yielded a {type(item).__name__}; only Charge, Refund or Quarantined"
            )
    try:
        json.dumps(state)
    except TypeError as error:
        raise ConformanceFailure(
            f"the source's bookmark is not JSON-serialisable ({error}); the host stores it as JSON"
        ) from error


def check_stable_ids(harness: SourceHarness) -> None:
    """Two fetches of the same window give the same records with the same ids."""
    window = harness.window()
    first = _records(fetch_all(harness.build(CallCounter("source")), window))
    second = _records(fetch_all(harness.build(CallCounter("source")), window))
    first_ids = {record_id(record) for record in first}
    second_ids = {record_id(record) for record in second}
    if first_ids != second_ids:
        changed = first_ids ^ second_ids
        raise ConformanceFailure(
            f"two fetches of one window disagree on {len(changed)} ids: {_describe(changed)}"
        )
    by_id = {record_id(record): record for record in first}
    for record in second:
        if by_id[record_id(record)] != record:
            raise ConformanceFailure(
                f"{record.kind} {record.source_id} changed between two fetches of one window"
            )


def check_refetch_upserts(harness: SourceHarness) -> None:
    """Storing a second fetch of the same window adds no row: re-fetched records upsert."""
    from core.testing.ingest import count_stored, store_fetched

    store = harness.store()
    if store is None:
        raise ConformanceFailure("the harness gives no store() for the re-fetch check")
    window = harness.window()
    first = fetch_all(harness.build(CallCounter("source")), window)
    store_fetched(store, first)
    distinct = len({record_id(record) for record in _records(first)})
    stored_once = count_stored(store)
    if stored_once != distinct:
        raise ConformanceFailure(
            f"one fetch of {distinct} distinct records left {stored_once} stored rows"
        )
    store_fetched(store, fetch_all(harness.build(CallCounter("source")), window))
    stored_twice = count_stored(store)
    if stored_twice != stored_once:
        raise ConformanceFailure(
            f"storing a second fetch of the same window took the store from {stored_once} to "
            f"{stored_twice} records: a re-fetched record must keep its (kind, source id) so "
            "it upserts"
        )


def check_malformed_quarantined(harness: SourceHarness) -> None:
    """A malformed payload becomes Quarantined with a reason; the good records still come."""
    bad_id = harness.inject_malformed()
    expected = harness.expected()
    items = fetch_all(harness.build(CallCounter("source")), harness.window())
    quarantined = [item for item in items if isinstance(item, Quarantined)]
    if not quarantined:
        raise ConformanceFailure("a malformed payload was served but nothing was quarantined")
    for item in quarantined:
        if not item.reason.strip():
            raise ConformanceFailure(f"quarantined item {item.source_id} carries no reason")
    if bad_id is not None and bad_id not in {item.source_id for item in quarantined}:
        raise ConformanceFailure(
            f"the malformed payload {bad_id} was not the one quarantined "
            f"({[item.source_id for item in quarantined]})"
        )
    fetched = {record_id(record) for record in _records(items)}
    missing = expected - fetched - {(kind, source) for kind, source in expected if source == bad_id}
    if missing:
        raise ConformanceFailure(
            f"one malformed payload stopped {len(missing)} good records: {_describe(missing)}"
        )


def check_health(harness: SourceHarness) -> None:
    """health() says ok on a working source, and not ok (with why) on a broken one."""
    health = harness.build(CallCounter("source")).health()
    if not isinstance(health, Health) or not health.ok:
        raise ConformanceFailure(f"health() on a working source gave {health!r}")
    if not harness.make_unhealthy():
        return
    try:
        broken = harness.build(CallCounter("source")).health()
    except Exception as error:
        raise ConformanceFailure(
            f"health() raised {type(error).__name__} on a broken source; it must return "
            "Health(ok=False, detail=...)"
        ) from error
    if broken.ok or not broken.detail:
        raise ConformanceFailure(f"health() on a broken source gave {broken!r}")
