"""The outbox as delivery reads and writes it: planned documents, attempts and bindings.

Every statement of the delivery protocol (``core/sync/delivery.py``) is here, in Core
statements (no ORM round trips on the hot path). Per document, two short transactions:

- :meth:`Deliveries.record_attempt`: one ``UPDATE ... RETURNING`` counts the attempt, committed
  before the document is sent.
- :meth:`Deliveries.bind`: one ``INSERT`` of the binding (key -> remote id) and one ``UPDATE``
  marking the document delivered, in ONE transaction. The store's unique constraints on a
  binding's key and on its remote id stand guard: an insert they refuse rolls the whole
  transaction back and the conflict is read and answered (:class:`BindConflict`) instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection as DriverConnection
from sqlalchemy.exc import IntegrityError

from core.states import DocumentState
from core.store.database import Database
from core.store.driver import chunks
from core.store.models import Base

__all__ = ["BindConflict", "Deliveries", "PlannedRow", "delivered_in_run", "documents_left"]

_DOCUMENTS = Base.metadata.tables["documents"]
_BINDINGS = Base.metadata.tables["bindings"]
_D = _DOCUMENTS.c
_B = _BINDINGS.c

# The hot path's statements, built once (executed with their parameters per document).
_ATTEMPT = {
    with_run: update(_DOCUMENTS)
    .where(_D.id == bindparam("document_id"), _D.state == DocumentState.PLANNED)
    .values(
        attempts=func.coalesce(_D.attempts, 0) + 1,
        attempted_at=bindparam("at"),
        **({"run_id": bindparam("run")} if with_run else {}),
    )
    .returning(_D.attempts)
    for with_run in (False, True)
}
_BIND = _BINDINGS.insert()
_DELIVERED = (
    update(_DOCUMENTS)
    .where(_D.id == bindparam("document_id"))
    .values(state=DocumentState.DELIVERED, delivered_at=bindparam("at"), last_error=None)
)


class PlannedRow(NamedTuple):
    """A document row as delivery reads it: its id, key and stored JSON body."""

    id: int
    key: str
    body: dict[str, Any]


class BindConflict(NamedTuple):
    """Why a binding could not be made: the remote id is another key's (``taken_by``), or the
    key is already bound to another remote id (``bound_to``)."""

    taken_by: str | None = None
    bound_to: str | None = None


def documents_left(database: Database, connection_id: int) -> int:
    """How many documents of the connection are still planned (to be delivered)."""
    with database.engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(_DOCUMENTS)
            .where(_D.connection_id == connection_id, _D.state == DocumentState.PLANNED)
        )
    return int(count or 0)


def delivered_in_run(database: Database, connection_id: int, run_id: int) -> Counter[str]:
    """Documents per kind that run ``run_id`` delivered (e.g. after it raised)."""
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(_D.kind, func.count())
            .where(
                _D.connection_id == connection_id,
                _D.run_id == run_id,
                _D.state == DocumentState.DELIVERED,
            )
            .group_by(_D.kind)
        )
        return Counter({kind: count for kind, count in rows})


class Deliveries:
    """One connection's outbox, for one delivery pass (``clock`` and ``run_id`` stamp rows)."""

    def __init__(
        self,
        database: Database,
        connection_id: int,
        *,
        clock: Callable[[], datetime],
        run_id: int | None = None,
    ) -> None:
        self.engine = database.engine
        self.connection_id = connection_id
        self.clock = clock
        self.run_id = run_id

    # ------------------------------------------------------------------------- reading

    def _planned(self) -> Select[Any]:
        return (
            select(_D.id, _D.key, _D.body)
            .where(_D.connection_id == self.connection_id, _D.state == DocumentState.PLANNED)
            .order_by(_D.id)
        )

    def planned_batches(self, batch_size: int) -> Iterator[list[PlannedRow]]:
        """Every planned document in id order, ``batch_size`` at a time (keyset pagination)."""
        after = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    self._planned().where(_D.id > after).limit(batch_size)
                ).all()
            if not rows:
                return
            yield [PlannedRow(*row) for row in rows]
            after = rows[-1].id

    def planned_by_id(self, ids: Sequence[int], batch_size: int) -> Iterator[list[PlannedRow]]:
        """The planned documents among ``ids``, ``batch_size`` at a time, in id order."""
        for chunk in chunks(ids, batch_size):
            with self.engine.connect() as connection:
                rows = connection.execute(self._planned().where(_D.id.in_(chunk))).all()
            yield [PlannedRow(*row) for row in rows]

    def rows_by_id(self, ids: Sequence[int]) -> list[PlannedRow]:
        """The documents ``ids`` whatever their state."""
        found: list[PlannedRow] = []
        with self.engine.connect() as connection:
            for chunk in chunks(ids):
                query = select(_D.id, _D.key, _D.body).where(_D.id.in_(chunk))
                found += [PlannedRow(*row) for row in connection.execute(query)]
        return found

    def bindings(self, keys: Iterable[str]) -> dict[str, str]:
        """The remote ids bound to ``keys`` (those bound)."""
        wanted = sorted(set(keys))
        bound: dict[str, str] = {}
        if not wanted:
            return bound
        with self.engine.connect() as connection:
            for chunk in chunks(wanted):
                rows = connection.execute(
                    select(_B.key, _B.remote_id).where(
                        _B.connection_id == self.connection_id, _B.key.in_(chunk)
                    )
                )
                bound.update({key: remote_id for key, remote_id in rows})
        return bound

    def states(self, keys: Sequence[str]) -> dict[str, str]:
        """The state of each of the documents ``keys`` that exists."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_D.key, _D.state).where(
                    _D.connection_id == self.connection_id, _D.key.in_(keys)
                )
            )
            return {key: state for key, state in rows}

    # ------------------------------------------------------------------------- writing

    def record_attempt(self, document_id: int) -> int | None:
        """Count one more attempt, committed before sending; the count before it, or None
        when the document is no longer planned."""
        with self.engine.begin() as connection:
            attempts = connection.scalar(
                _ATTEMPT[self.run_id is not None],
                {"document_id": document_id, "at": self.clock(), "run": self.run_id},
            )
        return None if attempts is None else int(attempts) - 1

    def bind(
        self,
        document_id: int,
        key: str,
        kind: str,
        remote_id: str,
        *,
        recovered: bool,
        bound_to: str | None,
    ) -> BindConflict | None:
        """Bind ``key`` to ``remote_id`` and mark the document delivered, in one transaction;
        None when done, else the conflict (and nothing written).

        ``bound_to`` is what the caller read the key bound to (None: not bound): an unbound
        key is inserted straight away, the unique constraints checking what a read would."""
        if bound_to is None:
            try:
                with self.engine.begin() as connection:
                    connection.execute(_BIND, self._binding(key, kind, remote_id, recovered))
                    self._delivered(connection, document_id)
                return None
            except IntegrityError:  # rolled back: bound meanwhile, or the remote id is taken
                pass
        with self.engine.begin() as connection:
            conflict = self._conflict(connection, key, kind, remote_id)
            if conflict is None:
                if not self._bound(connection, key):
                    connection.execute(_BIND, self._binding(key, kind, remote_id, recovered))
                self._delivered(connection, document_id)
        return conflict

    def _bound(self, connection: DriverConnection, key: str) -> str | None:
        return connection.scalar(
            select(_B.remote_id).where(_B.connection_id == self.connection_id, _B.key == key)
        )

    def _conflict(
        self, connection: DriverConnection, key: str, kind: str, remote_id: str
    ) -> BindConflict | None:
        rows = connection.execute(
            select(_B.key, _B.remote_id).where(
                _B.connection_id == self.connection_id,
                or_(_B.key == key, and_(_B.remote_kind == kind, _B.remote_id == remote_id)),
            )
        ).all()
        taken = [other for other, _ in rows if other != key]
        if taken:
            return BindConflict(taken_by=taken[0])
        bound = [bound for other, bound in rows if other == key and bound != remote_id]
        return BindConflict(bound_to=bound[0]) if bound else None

    def _binding(self, key: str, kind: str, remote_id: str, recovered: bool) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "key": key,
            "remote_kind": kind,
            "remote_id": remote_id,
            "bound_at": self.clock(),
            "recovered": recovered,
        }

    def _delivered(self, connection: DriverConnection, document_id: int) -> None:
        done = connection.execute(_DELIVERED, {"document_id": document_id, "at": self.clock()})
        if done.rowcount != 1:
            raise LookupError(f"document {document_id} is not in the store")

    def fail(self, document_id: int, reason: str) -> None:
        """The destination refused the document (or it cannot be sent): ``failed``, why."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(_DOCUMENTS)
                .where(_D.id == document_id)
                .values(state=DocumentState.FAILED, last_error=reason)
            )
            if done.rowcount != 1:
                raise LookupError(f"document {document_id} is not in the store")

    def note_error(self, document_id: int, text: str) -> None:
        """Keep an error on the document (its state unchanged)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(_DOCUMENTS).where(_D.id == document_id).values(last_error=text)
            )

    def note_waiting(self, key: str, reason: str) -> None:
        """Say on the document ``key`` why it waits (written only when it changed)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(_DOCUMENTS)
                .where(
                    _D.connection_id == self.connection_id,
                    _D.key == key,
                    or_(_D.last_error.is_(None), _D.last_error != reason),
                )
                .values(last_error=reason)
            )

    def note_reasons(self, reasons: dict[int, str]) -> None:
        """Keep ``reasons[id]`` as the last error of each document."""
        if not reasons:
            return
        with self.engine.begin() as connection:
            for document_id, reason in reasons.items():
                connection.execute(
                    update(_DOCUMENTS).where(_D.id == document_id).values(last_error=reason)
                )
