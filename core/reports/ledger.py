"""The ledger: every document of a connection with its remote id, filtered, also as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.host import Host
from core.store.ledger_entries import LedgerFilter, ledger_documents
from core.store.repository import get_connection

__all__ = ["LEDGER_FIELDS", "LedgerFilter", "ledger_csv", "ledger_rows"]

LEDGER_FIELDS = ["key", "kind", "date", "amount", "currency", "state", "remote_id", "error"]


def ledger_rows(
    host: Host, name: str, where: LedgerFilter | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Documents by date then planning order: key, kind, date, amount (exact text), currency,
    state, remote id and the last error."""
    with host.database.session() as session:
        row = get_connection(session, name)
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
            for document, remote_id in ledger_documents(session, row.id, where, limit)
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
