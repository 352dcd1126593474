"""``ledgersync verify``: read every delivered document back and say what changed since.

The destination lists each kind once (``read_back``); every delivered document is found by the
remote id it was bound to on delivery. A document that is gone was deleted; one whose status is
``void`` was voided; one whose amount, date, account or customer differs was changed by a
person (account and customer are compared where the destination lists them and says, through
``written_with``, what it wrote). Kinds the destination cannot list are named as not checked.
Nothing is written: changes are reported for a person, never overwritten (``--repair``, in
``core/sync/repair.py``, delivers what was deleted or voided again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.connections.settings_history import settings_at
from core.connections.setup import load_connection
from core.contracts import RemoteDocument
from core.errors import ConfigurationError
from core.host import Host
from core.store.bound_documents import delivered_documents
from core.store.repository import get_connection
from core.store.stored_documents import StoredDocument

__all__ = ["Finding", "Verification", "verify"]


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    kind: str
    remote_id: str
    problem: str  # deleted | voided | changed
    detail: str


@dataclass(slots=True)
class Verification:
    connection: str
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    not_checked: dict[str, int] = field(default_factory=dict)  # kind -> documents

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "clean": self.clean,
            "checked": self.checked,
            "not_checked": dict(self.not_checked),
            "findings": [
                {
                    "key": f.key,
                    "kind": f.kind,
                    "remote_id": f.remote_id,
                    "problem": f.problem,
                    "detail": f.detail,
                }
                for f in self.findings
            ],
        }

    def lines(self) -> list[str]:
        verdict = "clean" if self.clean else f"{len(self.findings)} problem(s)"
        lines = [f"Verify of {self.connection}: {self.checked} document(s) read back, {verdict}"]
        lines += [
            f"  {f.problem}: {f.kind} {f.key} ({f.remote_id}): {f.detail}" for f in self.findings
        ]
        lines += [
            f"  not checked: {count} {kind} document(s) (the destination cannot list them)"
            for kind, count in sorted(self.not_checked.items())
        ]
        return lines


def moved(written: RemoteDocument | None, found: RemoteDocument) -> list[str]:
    """How a person moved a document: its account or customer, against what it was written
    with (``written``: the destination's ``written_with``; None when it cannot say)."""
    if written is None:
        return []
    changes = []
    for name in ("account", "customer"):
        wanted, now = getattr(written, name), getattr(found, name)
        if wanted and now and wanted != now:
            changes.append(f"{name} {wanted} is now {now}")
    return changes


def _compare(
    row: StoredDocument,
    remote_id: str,
    found: RemoteDocument | None,
    written: RemoteDocument | None,
) -> Finding | None:
    if found is None:
        return Finding(row.key, row.kind, remote_id, "deleted", "no longer in the destination")
    if (found.status or "").lower() == "void":
        return Finding(row.key, row.kind, remote_id, "voided", "voided in the destination")
    changes = []
    if found.amount is not None and found.amount != row.amount:
        changes.append(f"amount {row.amount} {row.currency} is now {found.amount}")
    if found.date and found.date != row.doc_date.isoformat():
        changes.append(f"date {row.doc_date.isoformat()} is now {found.date}")
    changes += moved(written, found)
    if changes:
        return Finding(row.key, row.kind, remote_id, "changed", "; ".join(changes))
    return None


def verify(host: Host, name: str, *, since: date | None = None) -> Verification:
    """Read back ``name``'s delivered documents (dated ``since`` on) and compare."""
    with host.database.session() as session:
        connection_id = get_connection(session, name).id
        delivered = delivered_documents(session, connection_id, since)
    current = load_connection(host, name).settings
    with host.database.session() as session:
        # Each document is judged by the settings it was written with (settings_history).
        settings_when = settings_at(session, connection_id, current)
    destination, calls = host.open_destination(name)
    read = getattr(destination, "read_back", None)
    written_with = getattr(destination, "written_with", None)
    if read is None:
        raise ConfigurationError(
            f"the destination of {name!r} cannot read its documents back.",
            "verify needs a destination plugin with read_back(); reconcile still works.",
        )
    try:
        remote: Mapping[str, Mapping[str, RemoteDocument]] = read({r.kind for r, _ in delivered})
    finally:
        with host.database.session() as session:
            calls.flush(session, connection_id)
    result = Verification(name)
    for row, remote_id in delivered:
        listed = remote.get(row.kind)
        if listed is None:
            result.not_checked[row.kind] = result.not_checked.get(row.kind, 0) + 1
            continue
        result.checked += 1
        settings = settings_when(row.delivered_at)
        written = written_with(row.kind, row.currency, settings) if written_with else None
        finding = _compare(row, remote_id, listed.get(remote_id), written)
        if finding is not None:
            result.findings.append(finding)
    return result
