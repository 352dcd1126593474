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
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from core.contracts import AccountSettings, DeliveryContext, Destination
from core.documents import Document, document_from_dict
from core.errors import DocumentRejected, LedgersyncError, TransientError
from core.store.database import Database
from core.store.deliveries import Deliveries, delivered_in_run, documents_left
from core.store.repository import utcnow
from core.sync.delivery_outcome import (
    Budget,
    Clock,
    DeliveryOutcome,
    FailedDocument,
    ProgressCallback,
)
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

    store: Deliveries
    destination: Destination
    settings: AccountSettings
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
    store = Deliveries(database, connection_id, clock=clock, run_id=run_id)
    state = _Pass(
        store=store,
        destination=destination,
        settings=settings,
        outcome=outcome,
        total=documents_left(database, connection_id),
        on_progress=on_progress,
        look_first=look_first,
        budget=budget,
    )
    if cost is not None:
        state.cost = cost
    if on_progress is not None:
        on_progress(0, state.total)
    try:
        deferred = _deliver_all(state, _read(store.planned_batches(batch_size)))
        while deferred:
            batches = _read(store.planned_by_id(deferred, batch_size))
            still_deferred = _deliver_all(state, batches)
            if len(still_deferred) == len(deferred):  # behind documents that wait themselves
                outcome.waiting += len(still_deferred)
                _note_waiting(state, still_deferred)
                break
            deferred = still_deferred
    except TransientError as error:
        log.warning("delivery for connection %s stopped; will retry: %s", connection_id, error)
        outcome.stopped_by = error
    outcome.pending = documents_left(database, connection_id)
    return outcome


def _read(batches: Iterable[Sequence[Any]]) -> Iterable[list[_Planned]]:
    for rows in batches:
        yield [_Planned.from_row(row.id, row.key, row.body) for row in rows]


# ----------------------------------------------------------------------------- delivering


def _deliver_all(state: _Pass, batches: Iterable[list[_Planned]]) -> list[int]:
    """Deliver batch after batch; returns the ids deferred behind a still-planned dependency.

    The bindings a batch needs (its documents' own keys and their dependencies') are read
    once per batch and kept up to date as it goes: no read per document."""
    deferred: list[int] = []
    for batch in batches:
        bound = state.store.bindings(
            [item.key for item in batch] + [key for item in batch for key in item.depends_on]
        )
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
            # Before the attempt: a pause leaves the unit untouched. A run's first unit only
            # needs room for one call, so every run makes progress even when the day's
            # overhead (metadata, other apps) leaves less than a whole unit.
            state.budget(calls if state.approved else 1)
            state.approved.add(unit)
    context = DeliveryContext(
        settings=state.settings,
        remote_ids={key: bound[key] for key in document.depends_on},
    )
    previous_attempts = state.store.record_attempt(item.id)
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
        state,
        item.id,
        document,
        remote_id,
        found,
        bound_to=bound.get(document.key),
        adopted=found and not previous_attempts,
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
    states = state.store.states(missing)
    if any(states.get(key) == "planned" for key in missing):
        return _Status.DEFERRED
    state.store.note_waiting(document.key, _waiting_reason(missing, states))
    state.outcome.waiting += 1
    return _Status.WAITING


def _waiting_reason(missing: Iterable[str], states: dict[str, str]) -> str:
    return "; ".join(f"waiting for {key} ({states.get(key, 'never planned')})" for key in missing)


def _note_waiting(state: _Pass, document_ids: Sequence[int]) -> None:
    """Say on each document why it still waits (its dependency waits too)."""
    for start in range(0, len(document_ids), DEFAULT_BATCH_SIZE):
        rows = state.store.rows_by_id(document_ids[start : start + DEFAULT_BATCH_SIZE])
        planned = [_Planned.from_row(row.id, row.key, row.body) for row in rows]
        bound = state.store.bindings(key for item in planned for key in item.depends_on)
        reasons = {}
        for item in planned:
            missing = [key for key in item.depends_on if key not in bound]
            reasons[item.id] = _waiting_reason(missing, {key: "planned" for key in missing})
        state.store.note_reasons(reasons)


def _bind(
    state: _Pass,
    document_id: int,
    document: Document,
    remote_id: str,
    recovered: bool,
    *,
    bound_to: str | None,
    adopted: bool = False,
) -> _Status:
    """Bind the key to ``remote_id`` and mark the document delivered, in one transaction."""
    if not remote_id:
        return _reject(state, document_id, document.key, "the destination returned no id")
    kind = document.kind.value
    conflict = state.store.bind(
        document_id, document.key, kind, remote_id, recovered=recovered, bound_to=bound_to
    )
    if conflict is not None:
        if conflict.taken_by is not None:
            reason = (
                f"the destination answered with {remote_id}, already bound to {conflict.taken_by}"
            )
        else:
            reason = f"{document.key} is already bound to {conflict.bound_to}"
        return _reject(state, document_id, document.key, reason)
    if adopted:
        state.outcome.adopted[kind] += 1
    else:
        state.outcome.delivered[kind] += 1
        state.outcome.recovered += int(recovered)
    return _Status.DELIVERED


def _reject(state: _Pass, document_id: int, key: str, reason: str) -> _Status:
    log.warning("%s was not delivered: %s", key, reason)
    state.store.fail(document_id, reason)
    state.outcome.failed.append(FailedDocument(key, reason))
    return _Status.FAILED


def _note_error(state: _Pass, document_id: int, error: BaseException) -> None:
    """Keep the error on the document (it stays planned); never let this hide the error."""
    text = str(error) if isinstance(error, LedgersyncError) else f"{type(error).__name__}: {error}"
    try:
        state.store.note_error(document_id, text)
    except Exception:  # the store itself may be what failed
        log.exception("could not record the delivery error of document %s", document_id)
