"""The store's side of ingest: records upserted by source id, bad payloads quarantined.

A record read again (the fetch window overlaps the previous one on purpose) updates its row
and never duplicates it. A payload that could not become a record goes to the quarantine
table with its reason; seen again, it bumps the same entry. A record already planned into
documents keeps the amounts it was planned with: if the source later reports different money,
the difference is quarantined for a person to look at instead of silently drifting the books.

Work happens in batches of :data:`BATCH` items: one query finds what exists, one executemany
inserts the new rows and one updates the changed ones. The statements of the common paths go
straight to the driver (:mod:`core.store.driver`), values bound as the column types bind them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.reasons import REFUND_OF_UNFETCHED_CHARGE, REFUND_OF_UNREADABLE_CHARGE
from core.records import Charge, Fetched, Payout, Quarantined
from core.store.driver import (
    DriverSql,
    binder,
    chunks,
    collection_paused,
    read_json,
    read_moment,
    read_money,
    read_optional_money,
)
from core.store.models import Assignment, Base, SourceRecord
from core.store.payloads import json_safe, storable
from core.store.quarantine_intake import add_to_quarantine

__all__ = [
    "BATCH",
    "REFUND_OF_UNFETCHED_CHARGE",
    "REFUND_OF_UNREADABLE_CHARGE",
    "IngestCounts",
    "json_safe",
    "quarantine_items",
    "store_items",
]

BATCH = 1000
_RECORDS = Base.metadata.tables["source_records"]
_QUARANTINE = Base.metadata.tables["quarantine"]

# Skip reasons the planner gives a refund whose charge is not in the store; storing the
# charge later lifts them, so the refund is looked at again.

# Fields whose change after planning would change the books.
_MONEY_FIELDS = ("created_at", "currency", "amount", "fee", "fee_currency", "charge_id")
_FIELDS = (
    *_MONEY_FIELDS,
    "channel",
    "raw_channel",
    "description",
    "exchange_rate",
    "payload",
)


@dataclass(slots=True)
class IngestCounts:
    """What one call stored: new and updated records, quarantined payloads."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0  # entries quarantined for the first time
    quarantined_again: int = 0  # entries already in quarantine, seen once more

    def __iadd__(self, other: IngestCounts) -> IngestCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.quarantined_again += other.quarantined_again
        return self


def store_items(
    session: Session,
    connection_id: int,
    items: Iterable[Fetched | Quarantined],
    now: datetime,
) -> IngestCounts:
    """Upsert the records and quarantine the bad payloads among ``items``."""
    counts = IngestCounts()
    session.flush()  # statements below go to the driver, past the session's autoflush
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        records: dict[tuple[str, str], Fetched] = {}
        bad: list[Quarantined] = []
        for item in map(storable, batch):
            if isinstance(item, Quarantined):
                bad.append(item)
            else:
                records[(item.kind, item.source_id)] = item  # the last reading wins
        with collection_paused():
            if records:
                _store_records(session, connection_id, records, now, counts)
            if bad:
                _quarantine(session, connection_id, bad, now, counts)
    return counts


def _row(record: Fetched) -> dict[str, Any]:
    if isinstance(record, Payout):
        return {
            "kind": "payout",
            "source_id": record.source_id,
            "charge_id": None,
            "created_at": record.created_at,
            "currency": record.currency,
            "amount": record.amount,
            "fee": None,
            "fee_currency": None,
            "channel": None,
            "raw_channel": None,
            "description": "",
            "exchange_rate": None,
            "payload": {
                "raw": json_safe(record.raw),
                "charge_ids": list(record.charge_ids),
                "charge_nets": {key: str(net) for key, net in record.charge_nets.items()},
            },
        }
    if isinstance(record, Charge):
        return {
            "kind": "charge",
            "source_id": record.source_id,
            "charge_id": None,
            "created_at": record.created_at,
            "currency": record.currency,
            "amount": record.amount,
            "fee": record.fee,
            "fee_currency": record.fee_currency,
            "channel": record.channel,
            "raw_channel": record.raw_channel,
            "description": record.description,
            "exchange_rate": record.exchange_rate,
            "payload": json_safe(record.raw),
        }
    return {
        "kind": "refund",
        "source_id": record.source_id,
        "charge_id": record.charge_id,
        "created_at": record.created_at,
        "currency": record.currency,
        "amount": record.amount,
        "fee": None,
        "fee_currency": None,
        "channel": None,
        "raw_channel": None,
        "description": "",
        "exchange_rate": None,
        "payload": json_safe(record.raw),
    }


# What each stored field becomes when read back, as its column type would give it.
_READERS: dict[str, Any] = {
    "created_at": read_moment,
    "amount": read_money,
    "fee": read_optional_money,
    "exchange_rate": read_optional_money,
    "payload": read_json,
}
_SELECT_EXISTING = f"SELECT id, source_id, {', '.join(_FIELDS)} FROM source_records "


def _existing(
    sql: DriverSql, connection_id: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """``(row id, *fields)`` of the records already stored, by (kind, source id)."""
    by_kind: dict[str, list[str]] = {}
    for kind, source_id in keys:
        by_kind.setdefault(kind, []).append(source_id)
    readers = [_READERS.get(name) for name in _FIELDS]
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    for kind, ids in by_kind.items():
        for chunk in chunks(ids):
            rows = sql.fetch(
                _SELECT_EXISTING + "WHERE connection_id = ? AND kind = ? "
                f"AND source_id IN ({sql.markers(len(chunk))})",
                (connection_id, kind, *chunk),
            )
            for row_id, source_id, *values in rows:
                found[(kind, source_id)] = (
                    row_id,
                    *(
                        value if read is None or value is None else read(value)
                        for read, value in zip(readers, values, strict=True)
                    ),
                )
    return found


def _assigned(session: Session, record_ids: Sequence[int]) -> set[int]:
    assigned: set[int] = set()
    for chunk in chunks(record_ids):
        assigned.update(
            session.scalars(
                select(Assignment.record_id).where(Assignment.record_id.in_(chunk)).distinct()
            )
        )
    return assigned


def _store_records(
    session: Session,
    connection_id: int,
    records: Mapping[tuple[str, str], Fetched],
    now: datetime,
    counts: IngestCounts,
) -> None:
    sql = DriverSql(session.connection())
    existing = _existing(sql, connection_id, records)
    inserts: list[dict[str, Any]] = []
    changes: dict[int, tuple[Fetched, dict[str, Any]]] = {}
    for key, record in records.items():
        row = _row(record)
        old = existing.get(key)
        if old is None:
            inserts.append(row)
            continue
        changed = {
            name: row[name]
            for name, value in zip(_FIELDS, old[1:], strict=True)
            if value != row[name]
        }
        if changed:
            changes[old[0]] = (record, changed)
        else:
            counts.unchanged += 1
    if inserts:
        _insert(sql, connection_id, inserts, now)
        counts.new += len(inserts)
        _reconsider_refunds(sql, connection_id, inserts)
        _resolve_quarantine(sql, connection_id, inserts, now)
    if changes:
        _apply_changes(session, connection_id, changes, now, counts)


_INSERT = (  # the columns in the order _insert writes them
    "INSERT INTO source_records (connection_id, kind, source_id, created_at, currency, amount, "
    "fee, fee_currency, charge_id, channel, raw_channel, description, exchange_rate, payload, "
    f"fetched_at) VALUES ({DriverSql.markers(15)})"
)


def _insert(
    sql: DriverSql, connection_id: int, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """New rows in one executemany, each value as its column type would bind it."""
    columns, connection = _RECORDS.c, sql.connection
    moment = binder(columns.created_at, connection)
    money = binder(columns.amount, connection)
    optional_money = binder(columns.fee, connection)
    rate = binder(columns.exchange_rate, connection)
    payload = binder(columns.payload, connection)
    fetched_at = binder(columns.fetched_at, connection)(now)
    sql.executemany(
        _INSERT,
        [
            (
                connection_id,
                row["kind"],
                row["source_id"],
                moment(row["created_at"]),
                row["currency"],
                money(row["amount"]),
                optional_money(row["fee"]),
                row["fee_currency"],
                row["charge_id"],
                row["channel"],
                row["raw_channel"],
                row["description"],
                rate(row["exchange_rate"]),
                payload(row["payload"]),
                fetched_at,
            )
            for row in rows
        ],
    )


def _apply_changes(
    session: Session,
    connection_id: int,
    changes: Mapping[int, tuple[Fetched, dict[str, Any]]],
    now: datetime,
    counts: IngestCounts,
) -> None:
    money_changed = [rid for rid, (_r, c) in changes.items() if set(c) & set(_MONEY_FIELDS)]
    planned = _assigned(session, money_changed) if money_changed else set()
    updates: list[dict[str, Any]] = []
    drifted: list[Quarantined] = []
    for record_id, (record, changed) in changes.items():
        if record_id in planned:
            money = {name: value for name, value in changed.items() if name in _MONEY_FIELDS}
            drifted.append(
                Quarantined(
                    reason=f"{record.kind} changed at the source after it was planned: "
                    + ", ".join(
                        f"{name} is now {json_safe(value)}" for name, value in money.items()
                    ),
                    payload=json_safe(record.raw),
                    source_id=record.source_id,
                    kind=record.kind,
                )
            )
            changed = {name: value for name, value in changed.items() if name not in money}
        if changed:
            updates.append({"id": record_id, **changed, "fetched_at": now})
    if updates:
        session.execute(update(SourceRecord), updates)
    counts.updated += len(updates)
    counts.unchanged += len(changes) - len(updates)
    if drifted:
        _quarantine(session, connection_id, drifted, now, counts)


def _reconsider_refunds(
    sql: DriverSql, connection_id: int, inserts: Sequence[dict[str, Any]]
) -> None:
    """Refunds skipped because their charge was missing get another look once it arrives."""
    charge_ids = [row["source_id"] for row in inserts if row["kind"] == "charge"]
    for chunk in chunks(charge_ids):
        sql.execute(
            # Found through the charge_id index: "+ 0" and "|| ''" keep SQLite from walking
            # every refund of the connection by (connection_id, kind) instead.
            "UPDATE source_records SET skip_reason = NULL "
            "WHERE connection_id + 0 = ? AND kind || '' = ? AND skip_reason IN (?, ?) "
            f"AND charge_id IN ({sql.markers(len(chunk))})",
            (
                connection_id,
                "refund",
                REFUND_OF_UNFETCHED_CHARGE,
                REFUND_OF_UNREADABLE_CHARGE,
                *chunk,
            ),
        )


def _resolve_quarantine(
    sql: DriverSql, connection_id: int, inserts: Sequence[dict[str, Any]], now: datetime
) -> None:
    """A record readable now that was quarantined as unreadable before: that entry is done."""
    by_kind: dict[str, list[str]] = {}
    for row in inserts:
        by_kind.setdefault(row["kind"], []).append(row["source_id"])
    resolved_at = binder(_QUARANTINE.c.resolved_at, sql.connection)(now)
    for kind, ids in by_kind.items():
        for chunk in chunks(ids):
            sql.execute(
                "UPDATE quarantine SET resolved_at = ? "
                "WHERE connection_id = ? AND kind = ? AND resolved_at IS NULL "
                f"AND source_id IN ({sql.markers(len(chunk))})",
                (resolved_at, connection_id, kind, *chunk),
            )


def quarantine_items(
    session: Session, connection_id: int, items: Sequence[Quarantined], now: datetime
) -> IngestCounts:
    """Add each item to the quarantine, or bump the entry it already has."""
    counts = IngestCounts()
    if items:
        _quarantine(session, connection_id, items, now, counts)
    return counts


def _quarantine(
    session: Session,
    connection_id: int,
    items: Sequence[Quarantined],
    now: datetime,
    counts: IngestCounts,
) -> None:
    added = add_to_quarantine(session, connection_id, items, now)
    counts.quarantined += added.new
    counts.quarantined_again += added.again
