"""``ledgersync rollback``: take back what the sync delivered in a scope, exactly once.

Deletion goes through the outbox like creation:

1. Plan, in one transaction: every document of the scope, closed over its groups and
   dependents (:mod:`core.sync.rollback_scope`), becomes ``deleting``. Before that, nothing is
   deleted when the destination cannot delete a kind that is needed (its ``deletable_kinds``),
   and a group with a document a person changed in the books (read back, as ``verify`` does)
   is left out whole: it stays, with the reason.
2. Deliver, group by group, in reverse dependency order (credit refunds, credit notes,
   transfers, payments, expenses, invoices): each deletion is sent, then its binding is removed
   and the document marked ``deleted`` in one transaction. A deletion whose answer was lost is
   simply sent again: the destination answers "already gone", which counts as done. A
   document never delivered but attempted is looked up by key first.
3. When a whole group is deleted, its documents and their assignments are removed in one
   transaction: the records are "not yet planned" again, and the next sync plans them under
   the settings of that moment.

A group the destination refuses part-way stays: the refused document with the destination's
reason, what was deleted of it planned again as it was (the next sync books it again, so
books and ledger agree), the rest delivered as before. ``deleting`` and ``deleted`` documents
a crash left are finished by the next rollback or repost, whatever its scope. The rollback is
a run of its own in the history (trigger ``rollback``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.connections.settings_history import settings_at
from core.contracts import AccountSettings, Deleting, DeliveryContext, Destination
from core.documents import document_from_dict
from core.errors import ConfigurationError, DeletionRefused
from core.host import Host
from core.states import DocumentState
from core.store import rollbacks
from core.store.bound_documents import remote_ids
from core.sync.rollback_scope import Scope, Taken, close_over, groups, in_scope
from core.sync.verify import moved

__all__ = ["RollbackPlan", "RollbackResult", "Scope", "deletable_kinds", "delete_groups", "preview"]

ProgressCallback = Callable[[int, int | None], None]


@dataclass(slots=True)
class RollbackPlan:
    """What a rollback of a scope takes, what it must leave, and why."""

    scope: Scope
    take: list[list[Taken]] = field(default_factory=list)  # groups to delete
    stays: list[tuple[Taken, str]] = field(default_factory=list)  # (document, why)
    unfinished: int = 0  # documents an interrupted rollback still holds

    @property
    def documents(self) -> list[Taken]:
        return [doc for group in self.take for doc in group]

    def kinds(self) -> Counter[str]:
        return Counter(doc.kind for doc in self.documents)

    def beyond_scope(self) -> list[Taken]:
        """Documents taken only because their group or what they depend on was."""
        return [doc for doc in self.documents if not doc.in_scope]


@dataclass(slots=True)
class RollbackResult:
    deleted: Counter[str] = field(default_factory=Counter)
    released: int = 0  # records back to "not yet planned"
    stays: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    replanned: list[str] = field(default_factory=list)  # deleted, then booked again

    def counts(self) -> dict[str, Any]:
        return {
            "delivered": {},
            "deleted": dict(self.deleted),
            "released": self.released,
            "stayed": [list(item) for item in self.stays],
            "replanned": list(self.replanned),
        }


def deletable_kinds(destination: Destination) -> frozenset[str]:
    kinds = getattr(destination, "deletable_kinds", None)
    if kinds is None or not callable(getattr(destination, "delete", None)):
        return frozenset()
    return frozenset(kinds)


def _needs_remote(doc: Taken, bound: Mapping[str, str]) -> bool:
    return doc.key in bound or doc.attempts > 0


def _bound(host: Host, connection_id: int, keys: Sequence[str]) -> dict[str, str]:
    with host.database.session() as session:
        return remote_ids(session, connection_id, keys)


def _changed(
    destination: Destination,
    docs: Sequence[Taken],
    bound: Mapping[str, str],
    settings_when: Callable[[datetime | None], AccountSettings],
) -> dict[int, str]:
    """Documents a person changed in the books (amount, date, account, customer, voided), by
    id, with how; each judged by the settings it was written with, as ``verify`` does."""
    read = getattr(destination, "read_back", None)
    written_with = getattr(destination, "written_with", None)
    delivered = [doc for doc in docs if doc.state == DocumentState.DELIVERED and doc.key in bound]
    if read is None or not delivered:
        return {}
    listed = read({doc.kind for doc in delivered})
    changes: dict[int, str] = {}
    for doc in delivered:
        found = (listed.get(doc.kind) or {}).get(bound[doc.key])
        if found is None:
            continue  # gone already: deleting it is done at once
        if (found.status or "").lower() == "void":
            changes[doc.id] = "voided in the books by a person"
        elif found.amount is not None and found.amount != doc.amount:
            changes[doc.id] = f"edited in the books: amount {doc.amount} is now {found.amount}"
        elif found.date and found.date != doc.doc_date.isoformat():
            changes[doc.id] = f"edited in the books: date {doc.doc_date} is now {found.date}"
        elif written_with is not None:
            written = written_with(doc.kind, doc.currency, settings_when(doc.delivered_at))
            if how := moved(written, found):
                changes[doc.id] = f"edited in the books: {how[0]}"
    return changes


def preview(host: Host, connection_id: int, scope: Scope, destination: Destination) -> RollbackPlan:
    """What a rollback of ``scope`` takes and leaves; raises ConfigurationError (before
    anything is deleted) when the destination cannot delete a kind it needs."""
    plan = RollbackPlan(scope)
    with host.database.session() as session:
        named = in_scope(session, connection_id, scope)
        taken = close_over(session, connection_id, named, states=rollbacks.LIVE)
        parts = groups(session, taken)
        plan.unfinished = len(rollbacks.held_documents(session, connection_id))
    bound = _bound(host, connection_id, [doc.key for doc in taken])
    can = deletable_kinds(destination)
    cannot = sorted({doc.kind for doc in taken if _needs_remote(doc, bound)} - can)
    if cannot:
        raise ConfigurationError(
            f"the destination cannot delete {', '.join(cannot)} documents, and this rollback "
            "needs to; nothing was deleted.",
            "Narrow the scope, or delete those documents in the destination by hand.",
        )
    with host.database.session() as session:
        current = rollbacks.current_settings(session, connection_id)
        settings_when = settings_at(session, connection_id, current)
    changed = _changed(destination, taken, bound, settings_when)
    for part in parts:
        reasons = [changed[doc.id] for doc in part if doc.id in changed]
        if not reasons:
            plan.take.append(part)
            continue
        for doc in part:
            why = changed.get(doc.id) or f"its group holds a document {reasons[0]}"
            plan.stays.append((doc, why))
    return plan


def mark_for_deletion(host: Host, plan: RollbackPlan) -> None:
    """Step 1: every document the plan takes becomes ``deleting``, in one transaction."""
    ids = [doc.id for doc in plan.documents]
    with host.database.session() as session:
        rollbacks.mark_deleting(session, ids)


def _held_groups(host: Host, connection_id: int) -> list[list[Taken]]:
    with host.database.session() as session:
        ids = rollbacks.held_documents(session, connection_id)
        taken = close_over(session, connection_id, ids, states=rollbacks.HELD)
        return groups(session, taken)


def delete_groups(
    host: Host,
    connection_id: int,
    destination: Destination,
    context_settings: Any,
    result: RollbackResult,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Steps 2 and 3 for every document of the connection a rollback holds (module notes)."""
    parts = _held_groups(host, connection_id)
    total = sum(len(part) for part in parts)
    done = 0
    if on_progress is not None:
        on_progress(0, total)
    for part in parts:
        bound = _bound(
            host, connection_id, [key for doc in part for key in (doc.key, *doc.points_at)]
        )
        for index, doc in enumerate(part):
            if doc.state != DocumentState.DELETED:
                try:
                    _delete_one(host, connection_id, destination, context_settings, doc, bound)
                except DeletionRefused as refused:
                    _stay(host, part, index, str(refused), result)
                    break
                result.deleted[doc.kind] += 1
            done += 1
            if on_progress is not None:
                on_progress(done, total)
        else:
            result.released += _release(host, part)


def _delete_one(
    host: Host,
    connection_id: int,
    destination: Destination,
    settings: Any,
    doc: Taken,
    bound: dict[str, str],
) -> None:
    remote_id = bound.get(doc.key)
    document = document_from_dict(dict(doc.body))
    context = DeliveryContext(
        settings=settings, remote_ids={key: bound[key] for key in doc.points_at if key in bound}
    )
    if remote_id is None and doc.attempts > 0:  # an attempt may have created it
        remote_id = destination.find_existing(document, context)
    if remote_id is not None:
        if not isinstance(destination, Deleting):
            raise ConfigurationError(f"the destination cannot delete {doc.kind} documents.")
        destination.delete(remote_id, document, context)
    with host.database.session() as session:
        rollbacks.mark_deleted(session, connection_id, doc.id, doc.key)


def _release(host: Host, part: Sequence[Taken]) -> int:
    """Step 3: the group's documents and assignments go; its records are unplanned again."""
    ids = [doc.id for doc in part]
    with host.database.session() as session:
        return rollbacks.release_group(session, ids)


def _stay(
    host: Host, part: Sequence[Taken], refused_at: int, reason: str, result: RollbackResult
) -> None:
    """The group stays: the refused document delivered with the reason, what was deleted of
    the group planned again as it was, the rest as before the rollback."""
    refused = part[refused_at]
    with host.database.session() as session:
        again = rollbacks.book_again_or_keep(
            session,
            [doc.id for doc in part],
            booked_again=f"booked again: the rollback of its group stopped at {refused.key}",
            kept={refused.id: f"stays: {reason}"},
        )
    keys = {doc.id: doc.key for doc in part}
    result.replanned += [keys[document_id] for document_id in again]
    result.stays.append((refused.key, reason))
