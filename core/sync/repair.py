"""``ledgersync verify --repair``: deliver again what was deleted or voided in the destination.

Through the outbox, never around it. In ONE transaction, each delivered document ``verify``
found deleted or voided is planned again under a new key (``<key>:r1``, then ``:r2`` ...): its
row keeps its records and its place in the ledger, and documents that name it (a payment's
invoice, a refund's credit note) follow the new key. The old key stays bound to the remote id
it had, as history. A sync (trigger ``repair``, under the connection's lease) then delivers the
new keys exactly once like any planned document: a crash anywhere leaves either nothing
re-planned or documents the next sync finishes, recovering by key. What was changed in the
destination is reported for a person, never overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.documents import MAX_KEY_LENGTH, DocumentKind
from core.errors import LedgersyncError
from core.host import Host
from core.states import DocumentState, SyncTrigger
from core.store.repairs import Replanning, planned_keys
from core.store.repository import get_connection
from core.store.stored_documents import StoredDocument
from core.sync.engine import SyncOptions, sync
from core.sync.verify import Finding

__all__ = ["REPAIRABLE", "Repair", "repair", "repair_key", "replan"]

REPAIRABLE = ("deleted", "voided")
REFERENCES = ("invoice_key", "payment_key", "credit_note_key")
_REPAIRED = re.compile(r"^(?P<stem>.*):r(?P<n>\d+)$")


@dataclass(slots=True)
class Repair:
    """What ``--repair`` planned again (old key -> new key) and what it left for a person."""

    replanned: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)
    delivered: int = 0
    sync_outcome: str | None = None  # the delivering sync's outcome, or why it did not run

    @property
    def complete(self) -> bool:
        """Everything found was delivered again; nothing is left for a person."""
        return not self.left

    def to_json(self) -> dict[str, Any]:
        return {
            "replanned": dict(self.replanned),
            "delivered": self.delivered,
            "left": list(self.left),
            "delivery": self.sync_outcome,
            "complete": self.complete,
        }

    def lines(self) -> list[str]:
        lines = [
            f"  repaired: {old} delivered again as {new}" for old, new in self.replanned.items()
        ]
        lines += [f"  left for you: {why}" for why in self.left]
        if self.replanned:
            lines.append(f"  delivery: {self.sync_outcome}")
        return lines


def repair_key(key: str, taken: set[str]) -> str | None:
    """The next free ``<stem>:r<n>`` for ``key``; None when it would be too long."""
    match = _REPAIRED.match(key)
    stem, n = (match["stem"], int(match["n"]) + 1) if match else (key, 1)
    while f"{stem}:r{n}" in taken:
        n += 1
    new = f"{stem}:r{n}"
    return new if len(new) <= MAX_KEY_LENGTH else None


def replan(host: Host, name: str, findings: list[Finding], now: datetime) -> Repair:
    """Plan again, in one transaction, every deleted or voided document among ``findings``."""
    result = Repair()
    wanted = {f.key: f for f in findings if f.problem in REPAIRABLE}
    for f in findings:
        if f.problem not in REPAIRABLE:
            result.left.append(f"{f.kind} {f.key} was {f.problem} ({f.detail}): not overwritten")
    if not wanted:
        return result
    with host.database.session() as session:
        connection_id = get_connection(session, name).id
        replanning = Replanning(session, connection_id)
        rows = replanning.documents()
        taken = {row.key for row in rows}
        gone = _refunds_gone_with(rows, wanted)
        renamed: dict[str, str] = {}
        replanned: set[int] = set()  # ids planned again: no longer delivered
        for row in rows:
            if row.key not in wanted and row.key not in gone:
                continue
            if row.state != DocumentState.DELIVERED:
                continue  # already planned again by another repair
            new = repair_key(row.key, taken)
            if new is None:
                result.left.append(f"{row.kind} {row.key}: a new key would exceed 100 characters")
                continue
            taken.add(new)
            renamed[row.key] = new
            replanned.add(row.id)
            replanning.replan_under(row.id, new, now)
        for row in rows:
            body = dict(row.body or {})
            if body.get("key") in renamed:
                body["key"] = renamed[body["key"]]
            for name_ in REFERENCES:
                if body.get(name_) in renamed:
                    if row.state == DocumentState.DELIVERED and row.id not in replanned:
                        result.left.append(
                            f"{row.kind} {row.key} still names {body[name_]}, delivered again "
                            f"as {renamed[body[name_]]}: check it in the destination"
                        )
                    body[name_] = renamed[body[name_]]
            if body != row.body:
                replanning.rewrite_body(row.id, body)
        result.replanned = renamed
    return result


def _refunds_gone_with(rows: Sequence[StoredDocument], wanted: dict[str, Finding]) -> set[str]:
    """The refunds of every deleted credit note: they cannot be listed back, but a credit note
    is only deleted with its refunds (the destination removes them with it, or refuses until
    they are deleted first), so they are delivered again with it."""
    notes = {
        key
        for key, f in wanted.items()
        if f.kind == DocumentKind.CREDIT_NOTE and f.problem == "deleted"
    }
    return {
        row.key
        for row in rows
        if row.kind == DocumentKind.CREDIT_REFUND
        and (row.body or {}).get("credit_note_key") in notes
    }


def _waiting(host: Host, name: str) -> list[str]:
    """Keys planned again by a repair and not delivered yet (a repair stopped halfway)."""
    with host.database.session() as session:
        keys = planned_keys(session, get_connection(session, name).id)
    return [key for key in keys if _REPAIRED.match(key)]


def repair(host: Host, name: str, findings: list[Finding], now: datetime) -> Repair:
    """Plan the deleted and voided documents again, then deliver them in a ``repair`` sync."""
    result = replan(host, name, findings, now)
    if not _waiting(host, name):
        return result
    try:
        report = sync(host, name, SyncOptions(trigger=SyncTrigger.REPAIR, now=now))
    except LedgersyncError as error:
        result.sync_outcome = f"not delivered yet: {error}"
        return result
    result.delivered = sum(report.documents_delivered.values())
    still = _waiting(host, name)
    result.sync_outcome = (
        f"{report.outcome}; {len(still)} still to deliver (the next sync delivers them)"
        if still
        else f"{report.outcome}; every repaired document delivered"
    )
    if still:
        result.left += [f"{key} is not delivered yet" for key in still]
    return result
