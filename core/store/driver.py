"""Hot statements straight to the DBAPI driver, with values as the store's column types make them.

The ORM and SQLAlchemy's per-row parameter processing cost more than the database itself when
a sync stores or plans hundreds of thousands of rows. :class:`DriverSql` runs plain SQL written
with ``?`` markers through the session's own connection (so it shares its transaction), in the
driver's parameter style; values are bound with the column type's own bind processor
(:func:`binder`) and read back with :func:`read_moment`, :func:`read_money`, :func:`read_json`,
which give what the column types would give.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, text
from sqlalchemy.engine import Connection

from core.store.types import Money, UTCDateTime

T = TypeVar("T")

__all__ = [
    "IN_LIMIT",
    "DriverSql",
    "binder",
    "chunks",
    "collection_paused",
    "read_json",
    "read_moment",
    "read_money",
    "read_optional_money",
]

IN_LIMIT = 500  # ids per IN (...) list: well under every database's bound-parameter limit


def chunks(values: Sequence[T], size: int = IN_LIMIT) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``: the store's one way to bound an ``IN`` list
    or a multi-row statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # positional DBAPI markers


class DriverSql:
    """Plain SQL with ``?`` markers on ``connection``, in whatever style its driver takes.

    Drivers with positional markers get the SQL as written (markers swapped); any other
    parameter style goes through ``text()`` with numbered names, which SQLAlchemy translates.
    Values must already be what the driver expects (see :func:`binder`).
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.marker = _MARKERS.get(self.dialect.paramstyle)

    @staticmethod
    def markers(count: int) -> str:
        """``?, ?, ...``: ``count`` markers, for an ``IN (...)`` list or a row of values."""
        return ", ".join(["?"] * count)

    def fetch(self, sql: str, values: Sequence[Any] = ()) -> list[Any]:
        """The rows ``sql`` returns (tuples as the driver gives them)."""
        return list(self._run(sql, values).all())

    def execute(self, sql: str, values: Sequence[Any] = ()) -> None:
        self._run(sql, values).close()

    def _run(self, sql: str, values: Sequence[Any]) -> Any:
        if self.marker is not None:
            statement = sql if self.marker == "?" else sql.replace("?", self.marker)
            return self.connection.exec_driver_sql(statement, tuple(values))
        return self.connection.execute(_named(sql), _by_name(values))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self.marker is not None:
            statement = sql if self.marker == "?" else sql.replace("?", self.marker)
            self.connection.exec_driver_sql(statement, [tuple(row) for row in rows])
            return
        self.connection.execute(_named(sql), [_by_name(row) for row in rows])


def _named(sql: str) -> Any:
    parts = sql.split("?")
    named = parts[0] + "".join(f":p{n}{part}" for n, part in enumerate(parts[1:]))
    return text(named)


def _by_name(values: Sequence[Any]) -> dict[str, Any]:
    return {f"p{n}": value for n, value in enumerate(values)}


def _same(value: Any) -> Any:
    return value


def binder(column: Column[Any], connection: Connection) -> Callable[[Any], Any]:
    """What ``column``'s type does to a value before the driver gets it, on this dialect.

    On SQLite, timestamps, money and JSON get a quicker function that gives the very same text (it
    is checked against the type's own on sample values, and hands anything unusual to it).
    """
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect) or _same
    if dialect.name != "sqlite":
        return processor
    if isinstance(column.type, UTCDateTime):
        return _checked(_sqlite_moment(processor), processor, _MOMENT_PROBES)
    if isinstance(column.type, Money):
        return _checked(_sqlite_money(processor), processor, _MONEY_PROBES)
    if isinstance(column.type, JSON) and _json_text is not None:
        return _checked(_sqlite_json(processor), processor, _JSON_PROBES)
    return processor


def _checked(
    fast: Callable[[Any], Any], processor: Callable[[Any], Any], probes: Sequence[Any]
) -> Callable[[Any], Any]:
    return fast if all(fast(probe) == processor(probe) for probe in probes) else processor


_MOMENT_PROBES = (
    datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(987, 6, 5, 4, 3, 2, tzinfo=UTC),
)


def _sqlite_moment(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def bind(value: Any) -> Any:
        if value.__class__ is not datetime or value.tzinfo is None:
            return processor(value)  # None, a subclass, or naive (which it refuses)
        # The naive UTC text SQLAlchemy writes for SQLite: "YYYY-MM-DD HH:MM:SS.ffffff".
        return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]

    return bind


_MONEY_PROBES = (
    Decimal("12.30"),
    Decimal("-0.01"),
    Decimal(0),
    Decimal("1E+2"),
    Decimal("1.5E-7"),
    Decimal("123456789012345678.000001"),
)


def _sqlite_money(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def bind(value: Any) -> Any:
        if value.__class__ is not Decimal:
            return processor(value)  # None, or not a Decimal (which it refuses)
        return format(value, "f")  # the canonical text Money writes on SQLite

    return bind


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# json.dumps' own C encoder, made once instead of on every call (as json.dumps does).
_json_text = (
    c_make_encoder(None, _not_json, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)
_JSON_PROBES: tuple[dict[str, Any], ...] = (
    {},
    {"id": "ch_1", "amount": "12.30", "n": 3, "ok": True, "none": None},
    {"customer": {"name": 'Zoë "Q"\n', "tags": ["a", 1, None, False]}, "list": []},
)


def _sqlite_json(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    encode = _json_text

    def bind(value: Any) -> Any:
        if value.__class__ is not dict or encode is None:
            return processor(value)
        return "".join(encode(value, 0))

    return bind


_from_iso = datetime.fromisoformat


def read_moment(value: Any) -> datetime:
    """A stored timestamp as the driver returns it, made what the store's type gives: aware,
    in UTC. SQLite hands back the naive UTC text SQLAlchemy wrote; other drivers datetimes."""
    if value.__class__ is str:
        try:
            return _from_iso(value + "+00:00")  # far quicker than parsing, then .replace()
        except ValueError:
            value = _from_iso(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def read_money(value: Any) -> Decimal:
    """A stored amount as the driver returns it (text on SQLite), as an exact Decimal."""
    return value if value.__class__ is Decimal else Decimal(str(value))


def read_optional_money(value: Any) -> Decimal | None:
    return None if value is None else read_money(value)


def read_json(value: Any) -> Any:
    """A stored JSON value: text on SQLite, already parsed by PostgreSQL drivers."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


@contextmanager
def collection_paused() -> Iterator[None]:
    """Automatic garbage collection off while storing or planning many rows, as it was after.

    Those loops make hundreds of thousands of short-lived, acyclic objects (freed by reference
    counting), and the collector kept walking the live ones: ~10% of a plan's time for almost
    nothing collected. The switch is process-wide; cyclic garbage made meanwhile, here or in
    other threads, is collected once it is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
