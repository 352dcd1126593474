"""Planned documents -> the destination, exactly once, in dependency order.

The outbox protocol, per document:

1. In its own committed transaction, count the attempt (``attempts += 1``, ``attempted_at``).
   From then on a crash or a lost answer leaves a document that *may* exist remotely.
2. If an earlier attempt was counted (``attempts`` was already > 0), ask the destination for
   the document by key first (``find_existing``) and bind what is found (``recovered``).
3. Otherwise, or if nothing is found, send it (``deliver``).
4. In ONE transaction, insert the binding (key -> remote id) and mark the document delivered.

So whatever happens between 1 and 4, the next run finishes the job with no duplicate and
nothing missing. With ``look_first`` (adoption: the first delivery of a store to an
organization, see ``core/sync/adoption.py``) every document (True) or those whose keys it holds
are looked up by key before they are sent, and one found is bound to its record
(``adopted``), never created again. Errors, by type:

- ``DocumentRejected``: the document is ``failed`` with the destination's reason (shown to
  the user); documents that depend on it wait; delivery goes on with the others.
- ``TransientError`` (including ``DeliveryUncertain``): the document stays ``planned`` and
  delivery stops for this connection: the outcome's ``stopped_by`` holds the error, and the
  next run retries (recovering by key first).
- ``AuthorizationFailed``, ``DailyLimitReached`` and anything unexpected: the document stays
  ``planned`` and the error is raised to the caller (which marks the connection failed or
  paused). Counts so far reach the caller through ``on_progress`` and the documents' run_id.

Documents are read in batches by id (the outbox may hold millions); a document whose
dependency is still planned further on is deferred and retried once that dependency is done.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.contracts import AccountSettings, DeliveryContext, Destination
from core.documents import Document, document_from_dict
from core.errors import DocumentRejected, LedgersyncError, TransientError
from core.states import DocumentState
from core.store.database import Database
from core.store.models import Binding, DocumentRow
from core.store.repository import utcnow
from core.sync.pacing import unit_costs, unit_order

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Budget",
    "DeliveryOutcome",
    "FailedDocument",
    "ProgressCallback",
    "deliver_planned",
    "delivered_in_run",
    "documents_left",
]

log = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 500
ProgressCallback = Callable[[int, int | None], None]  # (documents done, documents planned)
# Called with the calls a unit of documents needs before its first one is sent; raises
# DailyLimitReached when they do not fit in what is left of today's share.
Budget = Callable[[int], None]
Clock = Callable[[], datetime]


class FailedDocument(NamedTuple):
    """A document the destination refused, and why (the destination's words)."""

    key: str
    reason: str


@dataclass(slots=True)
class DeliveryOutcome:
    """What one delivery pass did.

    ``delivered`` counts documents per kind, recovered ones included (``recovered`` says how
    many were found already created by an earlier attempt); ``adopted`` counts per kind the
    documents found in the books under their key when looking first (not in ``delivered``).
    ``pending`` is how many documents are still planned afterwards; ``waiting`` of those are
    held back by a dependency that failed. ``stopped_by`` is the transient error that ended
    the pass early, if any.
    """

    delivered: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    adopted: Counter[str] = field(default_factory=Counter)
    failed: list[FailedDocument] = field(default_factory=list)
    pending: int = 0
    waiting: int = 0
    stopped_by: TransientError | None = None

    @property
    def total_delivered(self) -> int:
        return sum(self.delivered.values())

    @property
    def complete(self) -> bool:
        """Nothing left to send: no pending document and no early stop."""
        return self.pending == 0 and self.stopped_by is None


class _Status(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    DEFERRED = "deferred"  # a dependency is still planned: retry after the others
    WAITING = "waiting"  # a dependency failed (or is unknown): wait for a later run
    SKIPPED = "skipped"  # no longer planned (changed underneath us)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A planned row, its document rebuilt (or why it cannot be)."""

    id: int
    key: str
    document: Document | None
    unreadable: str = ""

    @classmethod
    def from_row(cls, id: int, key: str, body: dict[str, Any]) -> _Planned:
        try:
            return cls(id, key, document_from_dict(body))
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            return cls(id, key, None, f"the stored document cannot be read: {error!r}")

    @property
    def depends_on(self) -> tuple[str, ...]:
        return self.document.depends_on if self.document is not None else ()


@dataclass(slots=True)
class _Pass:
    """The state of one call: where to write, what happened so far."""

    database: Database
    connection_id: int
    destination: Destination
    settings: AccountSettings
    run_id: int | None
    clock: Clock
    outcome: DeliveryOutcome
    total: int
    on_progress: ProgressCallback | None
    done: int = 0
    look_first: bool | Container[str] = False
    budget: Budget | None = None
    cost: Callable[[Document], int] = lambda _document: 1
    units: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (unit, its calls)
    approved: set[int] = field(default_factory=set)  # units the budget let through

    def progressed(self) -> None:
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)


def deliver_planned(
    database: Database,
    connection_id: int,
    destination: Destination,
    settings: AccountSettings,
    *,
    run_id: int | None = None,
    clock: Clock = utcnow,
    on_progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    look_first: bool | Container[str] = False,
    budget: Budget | None = None,
    cost: Callable[[Document], int] | None = None,
) -> DeliveryOutcome:
    """Deliver every planned document of ``connection_id`` exactly once (module notes).

    Returns the outcome; raises AuthorizationFailed, DailyLimitReached (and unexpected
    errors) after leaving the document in hand planned. With a ``budget``, documents go in
    units (``core.sync.pacing``): before a unit's first document, ``budget`` is asked for
    the calls the whole unit needs (``cost`` per document, default 1), so a pause never falls
    between a charge's invoice and its payment when the share can hold both.
    ``on_progress(done, total)`` is called at the start and after each document is
    delivered, failed or held back.
    """
    outcome = DeliveryOutcome()
    state = _Pass(
        database=database,
        connection_id=connection_id,
        destination=destination,
        settings=settings,
        run_id=run_id,
        clock=clock,
        outcome=outcome,
        total=_count_planned(database, connection_id),
        on_progress=on_progress,
        look_first=look_first,
        budget=budget,
    )
    if cost is not None:
        state.cost = cost
    if on_progress is not None:
        on_progress(0, state.total)
    try:
        deferred = _deliver_all(state, _planned_batches(database, connection_id, batch_size))
        while deferred:
            batches = _planned_by_id(database, connection_id, deferred, batch_size)
            still_deferred = _deliver_all(state, batches)
            if len(still_deferred) == len(deferred):  # behind documents that wait themselves
                outcome.waiting += len(still_deferred)
                _note_waiting(state, still_deferred)
                break
            deferred = still_deferred
    except TransientError as error:
        log.warning("delivery for connection %s stopped; will retry: %s", connection_id, error)
        outcome.stopped_by = error
    outcome.pending = _count_planned(database, connection_id)
    return outcome


def delivered_in_run(database: Database, connection_id: int, run_id: int) -> Counter[str]:
    """Documents per kind that run ``run_id`` delivered (e.g. after it raised)."""
    with database.session() as session:
        rows = session.execute(
            select(DocumentRow.kind, func.count())
            .where(
                DocumentRow.connection_id == connection_id,
                DocumentRow.run_id == run_id,
                DocumentRow.state == DocumentState.DELIVERED,
            )
            .group_by(DocumentRow.kind)
        )
        return Counter({kind: count for kind, count in rows})


# ----------------------------------------------------------------------------- reading


def documents_left(database: Database, connection_id: int) -> int:
    """How many documents of the connection are still planned (to be delivered)."""
    return _count_planned(database, connection_id)


def _count_planned(database: Database, connection_id: int) -> int:
    with database.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(DocumentRow)
            .where(
                DocumentRow.connection_id == connection_id,
                DocumentRow.state == DocumentState.PLANNED,
            )
        )
        return int(count or 0)


def _select_planned(connection_id: int) -> Any:
    return (
        select(DocumentRow.id, DocumentRow.key, DocumentRow.body)
        .where(
            DocumentRow.connection_id == connection_id, DocumentRow.state == DocumentState.PLANNED
        )
        .order_by(DocumentRow.id)
    )


def _planned_batches(
    database: Database, connection_id: int, batch_size: int
) -> Iterator[list[_Planned]]:
    """Every planned document in id order, ``batch_size`` at a time (keyset pagination)."""
    after = 0
    while True:
        with database.session() as session:
            rows = session.execute(
                _select_planned(connection_id).where(DocumentRow.id > after).limit(batch_size)
            ).all()
        if not rows:
            return
        yield [_Planned.from_row(row.id, row.key, row.body) for row in rows]
        after = rows[-1].id


def _planned_by_id(
    database: Database, connection_id: int, ids: Sequence[int], batch_size: int
) -> Iterator[list[_Planned]]:
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with database.session() as session:
            rows = session.execute(
                _select_planned(connection_id).where(DocumentRow.id.in_(chunk))
            ).all()
        yield [_Planned.from_row(row.id, row.key, row.body) for row in rows]


def _bindings(session: Session, connection_id: int, keys: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(
        select(Binding.key, Binding.remote_id).where(
            Binding.connection_id == connection_id, Binding.key.in_(wanted)
        )
    )
    return {key: remote_id for key, remote_id in rows}


# ----------------------------------------------------------------------------- delivering


def _deliver_all(state: _Pass, batches: Iterable[list[_Planned]]) -> list[int]:
    """Deliver batch after batch; returns the ids deferred behind a still-planned dependency."""
    deferred: list[int] = []
    for batch in batches:
        with state.database.session() as session:
            needed = (key for item in batch for key in item.depends_on)
            bound = _bindings(session, state.connection_id, needed)
        if state.budget is not None:
            # A unit's documents go one after the other, so a pause never falls inside one.
            readable = [(item.id, item.document) for item in batch if item.document is not None]
            state.units.update(unit_costs(readable, state.cost))
            batch = [batch[index] for index in unit_order([item.id for item in batch], state.units)]
        for item in batch:
            status = _deliver_one(state, item, bound)
            if status is _Status.DEFERRED:
                deferred.append(item.id)
            elif status is not _Status.SKIPPED:
                state.progressed()
    return deferred


def _deliver_one(state: _Pass, item: _Planned, bound: dict[str, str]) -> _Status:
    document = item.document
    if document is None:
        return _reject(state, item.id, item.key, item.unreadable)
    hold = _unmet_dependency(state, document, bound)
    if hold is not None:
        return hold
    if state.budget is not None:
        unit, calls = state.units.get(item.id, (-item.id, state.cost(document)))
        if unit not in state.approved:
            state.budget(calls)  # before the attempt: a pause leaves the unit untouched
            state.approved.add(unit)
    context = DeliveryContext(
        settings=state.settings,
        remote_ids={key: bound[key] for key in document.depends_on},
    )
    previous_attempts = _count_attempt(state, item.id)
    if previous_attempts is None:
        return _Status.SKIPPED
    look_first = state.look_first
    looks = look_first if isinstance(look_first, bool) else document.key in look_first
    look = previous_attempts > 0 or looks
    try:
        remote_id, found = _send(state.destination, document, context, look)
    except DocumentRejected as error:
        return _reject(state, item.id, document.key, str(error))
    except BaseException as error:
        _note_error(state, item.id, error)
        raise
    status = _bind(
        state, item.id, document, remote_id, found, adopted=found and not previous_attempts
    )
    if status is _Status.DELIVERED:
        bound[document.key] = remote_id
    return status


def _send(
    destination: Destination, document: Document, context: DeliveryContext, look: bool
) -> tuple[str, bool]:
    """The remote id, and whether it was found already in the books (looking first)."""
    if look:
        found = destination.find_existing(document, context)
        if found:
            log.info("%s: found in the books as %s", document.key, found)
            return found, True
    return destination.deliver(document, context), False


def _unmet_dependency(state: _Pass, document: Document, bound: dict[str, str]) -> _Status | None:
    """None when every dependency is bound; else DEFERRED or WAITING (with the reason noted)."""
    missing = [key for key in document.depends_on if key not in bound]
    if not missing:
        return None
    with state.database.session() as session:
        found = session.execute(
            select(DocumentRow.key, DocumentRow.state).where(
                DocumentRow.connection_id == state.connection_id,
                DocumentRow.key.in_(missing),
            )
        )
        states = {key: doc_state for key, doc_state in found}
        if any(states.get(key) == "planned" for key in missing):
            return _Status.DEFERRED
        reason = _waiting_reason(missing, states)
        row = session.scalar(
            select(DocumentRow).where(
                DocumentRow.connection_id == state.connection_id,
                DocumentRow.key == document.key,
            )
        )
        if row is not None and row.last_error != reason:
            row.last_error = reason
    state.outcome.waiting += 1
    return _Status.WAITING


def _waiting_reason(missing: Iterable[str], states: dict[str, str]) -> str:
    return "; ".join(f"waiting for {key} ({states.get(key, 'never planned')})" for key in missing)


def _note_waiting(state: _Pass, document_ids: Sequence[int]) -> None:
    """Say on each document why it still waits (its dependency waits too)."""
    for start in range(0, len(document_ids), DEFAULT_BATCH_SIZE):
        with state.database.session() as session:
            rows = session.scalars(
                select(DocumentRow).where(
                    DocumentRow.id.in_(document_ids[start : start + DEFAULT_BATCH_SIZE])
                )
            ).all()
            planned = [_Planned.from_row(row.id, row.key, row.body) for row in rows]
            bound = _bindings(
                session, state.connection_id, (k for p in planned for k in p.depends_on)
            )
            for row, item in zip(rows, planned, strict=True):
                missing = [key for key in item.depends_on if key not in bound]
                row.last_error = _waiting_reason(missing, {key: "planned" for key in missing})


def _count_attempt(state: _Pass, document_id: int) -> int | None:
    """Record one more attempt (committed before sending); the count before it, or None."""
    with state.database.session() as session:
        row = session.get(DocumentRow, document_id)
        if row is None or row.state != DocumentState.PLANNED:
            return None
        previous = row.attempts or 0
        row.attempts = previous + 1
        row.attempted_at = state.clock()
        if state.run_id is not None:
            row.run_id = state.run_id
        return previous


def _bind(
    state: _Pass,
    document_id: int,
    document: Document,
    remote_id: str,
    recovered: bool,
    *,
    adopted: bool = False,
) -> _Status:
    """Bind the key to ``remote_id`` and mark the document delivered, in one transaction."""
    if not remote_id:
        return _reject(state, document_id, document.key, "the destination returned no id")
    with state.database.session() as session:
        taken = session.scalar(
            select(Binding.key).where(
                Binding.connection_id == state.connection_id,
                Binding.remote_kind == document.kind.value,
                Binding.remote_id == remote_id,
                Binding.key != document.key,
            )
        )
        if taken is not None:
            conflict = f"the destination answered with {remote_id}, already bound to {taken}"
        else:
            conflict = ""
            existing = _bindings(session, state.connection_id, [document.key])
            if document.key not in existing:
                session.add(
                    Binding(
                        connection_id=state.connection_id,
                        key=document.key,
                        remote_kind=document.kind.value,
                        remote_id=remote_id,
                        bound_at=state.clock(),
                        recovered=recovered,
                    )
                )
            elif existing[document.key] != remote_id:
                conflict = f"{document.key} is already bound to {existing[document.key]}"
            if not conflict:
                row = session.get_one(DocumentRow, document_id)
                row.state = DocumentState.DELIVERED
                row.delivered_at = state.clock()
                row.last_error = None
    if conflict:
        return _reject(state, document_id, document.key, conflict)
    if adopted:
        state.outcome.adopted[document.kind.value] += 1
    else:
        state.outcome.delivered[document.kind.value] += 1
        state.outcome.recovered += int(recovered)
    return _Status.DELIVERED


def _reject(state: _Pass, document_id: int, key: str, reason: str) -> _Status:
    log.warning("%s was not delivered: %s", key, reason)
    with state.database.session() as session:
        row = session.get_one(DocumentRow, document_id)
        row.state = DocumentState.FAILED
        row.last_error = reason
    state.outcome.failed.append(FailedDocument(key, reason))
    return _Status.FAILED


def _note_error(state: _Pass, document_id: int, error: BaseException) -> None:
    """Keep the error on the document (it stays planned); never let this hide the error."""
    text = str(error) if isinstance(error, LedgersyncError) else f"{type(error).__name__}: {error}"
    try:
        with state.database.session() as session:
            row = session.get(DocumentRow, document_id)
            if row is not None:
                row.last_error = text
    except Exception:  # the store itself may be what failed
        log.exception("could not record the delivery error of document %s", document_id)
