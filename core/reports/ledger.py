"""The ledger: every document of a connection with its remote id, filtered, also as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, select

from core.host import Host
from core.store.models import Binding, DocumentRow
from core.store.repository import get_connection

__all__ = ["LEDGER_FIELDS", "LedgerFilter", "ledger_csv", "ledger_rows"]

Q = TypeVar("Q", bound="Select[Any, Any]")

LEDGER_FIELDS = ["key", "kind", "date", "amount", "currency", "state", "remote_id", "error"]


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """Which documents to show; every field None or empty shows them all."""

    kind: str | None = None
    state: str | None = None
    currency: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    key_contains: str | None = None

    def apply(self, query: Q) -> Q:
        if self.kind:
            query = query.where(DocumentRow.kind == self.kind)
        if self.state:
            query = query.where(DocumentRow.state == self.state)
        if self.currency:
            query = query.where(DocumentRow.currency == self.currency.upper())
        if self.date_from:
            query = query.where(DocumentRow.doc_date >= self.date_from)
        if self.date_to:
            query = query.where(DocumentRow.doc_date <= self.date_to)
        if self.key_contains:
            query = query.where(DocumentRow.key.contains(self.key_contains, autoescape=True))
        return query


def ledger_rows(
    host: Host, name: str, where: LedgerFilter | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Documents by date then planning order: key, kind, date, amount (exact text), currency,
    state, remote id and the last error."""
    with host.database.session() as session:
        row = get_connection(session, name)
        query = (
            select(DocumentRow, Binding.remote_id)
            .outerjoin(
                Binding,
                (Binding.connection_id == DocumentRow.connection_id)
                & (Binding.key == DocumentRow.key),
            )
            .where(DocumentRow.connection_id == row.id)
            .order_by(DocumentRow.doc_date, DocumentRow.id)
        )
        query = (where or LedgerFilter()).apply(query)
        if limit is not None:
            query = query.limit(limit)
        return [
            {
                "key": document.key,
                "kind": document.kind,
                "date": document.doc_date.isoformat(),
                "amount": str(document.amount),
                "currency": document.currency,
                "state": document.state,
                "remote_id": remote_id,
                "error": document.last_error,
            }
            for document, remote_id in session.execute(query)
        ]


def _inert(value: Any) -> Any:
    """Text a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def ledger_csv(rows: list[dict[str, Any]], *, for_spreadsheets: bool = False) -> str:
    """The rows as CSV with a header line (the columns of :data:`LEDGER_FIELDS`).

    ``for_spreadsheets`` quotes text that a spreadsheet would run as a formula (a download
    from the page); amounts are left as they are."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LEDGER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if for_spreadsheets:
            row = {k: v if k == "amount" else _inert(v) for k, v in row.items()}
        writer.writerow(row)
    return out.getvalue()
