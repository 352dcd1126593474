"""Planned documents and their assignments as rows, written straight to the driver.

A planning pass may write hundreds of thousands of documents. :class:`OutboxWriter` puts them
in multi-row ``INSERT ... RETURNING`` statements with every value already in the form its
column type would bind (:mod:`core.store.driver`); :func:`body_text` writes a document's JSON
body as ``json.dumps(document.to_dict())`` would, without the intermediate dict; on SQLite a
document's many assignments are expanded from one JSON array by SQLite itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection as DriverConnection
from sqlalchemy.exc import IntegrityError

from core.documents import CreditNote, CreditRefund, Document, Expense, Invoice, Payment
from core.states import DocumentState
from core.store.driver import DriverSql, binder
from core.store.models import Base

# A document key the connection already has: what :meth:`OutboxWriter.insert_documents`
# raises (the store's unique constraint on (connection, key)).
KeyTaken = IntegrityError

__all__ = ["OutboxWriter", "body_text", "kind_of"]

_DOCUMENTS = Base.metadata.tables["documents"]
_ASSIGNMENTS = Base.metadata.tables["assignments"]
_KINDS: dict[type[Document], str] = {}  # document class -> its kind's name


def kind_of(document: Document) -> str:
    """The name of the document's kind (``document.kind.value``, looked up once per class)."""
    kind = _KINDS.get(document.__class__)
    if kind is None:
        kind = _KINDS[document.__class__] = document.kind.value
    return kind


_DOCUMENT_COLUMNS = (
    "connection_id",
    "key",
    "kind",
    "mode",
    "doc_date",
    "currency",
    "amount",
    "body",
    "state",
    "attempts",
    "planned_at",
    "run_id",
)
_DOCUMENT_BATCH = 500  # rows per multi-row INSERT (bounded by the dialect's parameter limit)
_JSON_EACH_FROM = 8  # a document covering this many records has them inserted by SQLite itself
_quote = encode_basestring_ascii  # the C string encoder json.dumps uses
_BODY_FIELDS: dict[type[Document], tuple[str, ...]] = {}


def _json_value(value: Any) -> str:
    if value.__class__ is str:
        return _quote(value)
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return _quote(str(value))
    if isinstance(value, date):
        return _quote(value.isoformat())
    if isinstance(value, tuple):
        if all(item.__class__ is str for item in value):
            return "[" + ", ".join(map(_quote, value)) + "]"
        return json.dumps([str(item) if isinstance(item, Decimal) else item for item in value])
    return json.dumps(value)


def _generic_body(document: Document) -> str:
    cls = type(document)
    names = _BODY_FIELDS.get(cls)
    if names is None:
        names = _BODY_FIELDS[cls] = tuple(
            name for name in cls.__dataclass_fields__ if name != "kind"
        )
    parts = ['{"kind": ', _quote(document.kind.value)]
    for name in names:
        parts += (", ", _quote(name), ": ", _json_value(getattr(document, name)))
    parts.append("}")
    return "".join(parts)


# The built-in kinds, field by field, for a writer that skips the per-field dispatch. A kind
# whose fields are not (or no longer) these is written by the generic writer instead.
_COMMON_FIELDS = ("key", "date", "currency", "amount", "record_ids", "description")
_EXTRA_FIELDS: dict[type[Document], tuple[str, ...]] = {
    cls: extra
    for cls, extra in (
        (Invoice, ("exchange_rate",)),
        (Payment, ("invoice_key", "invoice_keys", "applied_amounts")),
        (Expense, ()),
        (CreditNote, ("invoice_key", "payment_key")),
        (CreditRefund, ("credit_note_key", "invoice_key")),
    )
    if tuple(name for name in cls.__dataclass_fields__ if name != "kind") == _COMMON_FIELDS + extra
}
_HEADS = {cls: '{"kind": ' + _quote(cls.kind.value) + ', "key": ' for cls in _EXTRA_FIELDS}


def _known_body(document: Document, extra: tuple[str, ...]) -> str | None:
    """The body of a built-in kind holding the types it declares; None for anything else."""
    key, day, currency, amount = document.key, document.date, document.currency, document.amount
    ids, description = document.record_ids, document.description
    if not (
        key.__class__ is str
        and day.__class__ is date
        and currency.__class__ is str
        and amount.__class__ is Decimal
        and ids.__class__ is tuple
        and description.__class__ is str
    ):
        return None
    for record_id in ids:
        if record_id.__class__ is not str:
            return None
    text = (
        f"{_HEADS[document.__class__]}{_quote(key)}, "
        f'"date": "{day.isoformat()}", "currency": {_quote(currency)}, '
        f'"amount": "{amount!s}", "record_ids": [{", ".join(map(_quote, ids))}], '
        f'"description": {_quote(description)}'
    )
    for name in extra:
        value = getattr(document, name)
        if value.__class__ is str:
            text += f', "{name}": {_quote(value)}'
        elif value is None:
            text += f', "{name}": null'
        elif value.__class__ is Decimal:
            text += f', "{name}": "{value!s}"'
        elif value == ():
            text += f', "{name}": []'
        else:
            return None  # a payment of several invoices: the generic writer
    return text + "}"


def body_text(document: Document) -> str:
    """``json.dumps(document.to_dict())``, written without the intermediate dict."""
    extra = _EXTRA_FIELDS.get(document.__class__)
    if extra is not None:
        text = _known_body(document, extra)
        if text is not None:
            return text
    return _generic_body(document)


class OutboxWriter:
    """Documents and assignments straight to the driver, without per-row statement work.

    Documents go in multi-row ``INSERT ... RETURNING`` statements with each value already in
    the form its column type would bind; a body is written as JSON text directly where the
    dialect stores ``json.dumps`` of it. On SQLite a document's many assignments are expanded
    from one JSON array by SQLite itself.
    """

    _PROBE: Mapping[str, Any] = {"kind": 'é"\n', "ids": ["a", "b"], "rate": None}

    def __init__(
        self,
        connection: DriverConnection,
        connection_id: int,
        mode: str,
        now: datetime,
        run_id: int | None,
    ) -> None:
        dialect = connection.dialect
        columns = _DOCUMENTS.c
        self.connection = connection
        self.sql = DriverSql(connection)
        self.returning = bool(dialect.insert_returning)
        self.bind_date = binder(columns.doc_date, connection)
        self.bind_amount = binder(columns.amount, connection)
        self.bind_body = binder(columns.body, connection)
        self.body_as_text = self.bind_body(dict(self._PROBE)) == json.dumps(self._PROBE)
        self.connection_id = connection_id
        self.mode = mode
        self.now = now
        self.planned_at = binder(columns.planned_at, connection)(now)
        self.run_id = run_id
        limit = getattr(dialect, "insertmanyvalues_max_parameters", 0) or 999
        self.batch = max(1, min(_DOCUMENT_BATCH, limit // len(_DOCUMENT_COLUMNS)))
        self.json_each = dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 38)
        self._statements: dict[int, str] = {}
        self._dates: dict[date, Any] = {}

    def _insert_statement(self, rows: int) -> str:
        statement = self._statements.get(rows)
        if statement is None:
            one = f"({DriverSql.markers(len(_DOCUMENT_COLUMNS))})"
            statement = self._statements[rows] = (
                f"INSERT INTO documents ({', '.join(_DOCUMENT_COLUMNS)}) VALUES "
                + ", ".join([one] * rows)
                + " RETURNING key, id"
            )
        return statement

    def _values(self, document: Document) -> tuple[Any, ...]:
        day = document.date
        bound_day = self._dates.get(day)
        if bound_day is None:
            bound_day = self._dates[day] = self.bind_date(day)
        body = body_text(document) if self.body_as_text else self.bind_body(document.to_dict())
        return (
            self.connection_id,
            document.key,
            kind_of(document),
            self.mode,
            bound_day,
            document.currency,
            self.bind_amount(document.amount),
            body,
            DocumentState.PLANNED,
            0,
            self.planned_at,
            self.run_id,
        )

    def insert_documents(self, documents: Sequence[Document]) -> dict[str, int]:
        """Insert the documents; their ids by key. Raises :data:`KeyTaken` on a taken key."""
        if not self.returning:
            return self._insert_documents_core(documents)
        ids: dict[str, int] = {}
        for start in range(0, len(documents), self.batch):
            chunk = documents[start : start + self.batch]
            values = tuple(chain.from_iterable(map(self._values, chunk)))
            ids.update(self.sql.fetch(self._insert_statement(len(chunk)), values))
        return ids

    def _insert_documents_core(self, documents: Sequence[Document]) -> dict[str, int]:
        rows = [
            {
                "connection_id": self.connection_id,
                "key": document.key,
                "kind": document.kind.value,
                "mode": self.mode,
                "doc_date": document.date,
                "currency": document.currency,
                "amount": document.amount,
                "body": document.to_dict(),
                "state": DocumentState.PLANNED,
                "attempts": 0,
                "planned_at": self.now,
                "run_id": self.run_id,
            }
            for document in documents
        ]
        # Ids come back with their keys, in batches; asking for them in parameter order
        # would make SQLite insert one row per statement.
        result = self.connection.execute(
            insert(_DOCUMENTS).returning(_DOCUMENTS.c.key, _DOCUMENTS.c.id), rows
        )
        return {key: row_id for key, row_id in result}

    def insert_assignments(self, groups: Sequence[tuple[int, Sequence[int], str]]) -> None:
        """``(document id, record row ids, kind)`` per document, as assignment rows."""
        rows: list[tuple[int, int, str]] = []
        arrays: list[tuple[int, str, str]] = []
        for document_id, record_ids, kind in groups:
            if len(record_ids) == 1:
                rows.append((document_id, record_ids[0], kind))
            elif self.json_each and len(record_ids) >= _JSON_EACH_FROM:
                arrays.append((document_id, kind, "[" + ",".join(map(str, record_ids)) + "]"))
            else:
                rows.extend((document_id, record_id, kind) for record_id in record_ids)
        self.sql.executemany(
            "INSERT INTO assignments (document_id, record_id, kind) "
            "SELECT ?, value, ? FROM json_each(?)",
            arrays,
        )
        self.sql.executemany(
            "INSERT INTO assignments (document_id, record_id, kind) VALUES (?, ?, ?)", rows
        )

    def set_skip_reasons(self, rows: Sequence[tuple[int, str]]) -> None:
        """``(record row id, reason)`` pairs: the records are skipped for good."""
        self.sql.executemany(
            "UPDATE source_records SET skip_reason = ? WHERE id = ?",
            [(reason, row_id) for row_id, reason in rows],
        )
