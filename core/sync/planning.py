"""The outbox planner: eligible, unassigned records -> planned documents, in one transaction.

A charge is eligible when it was created inside one of the connection's sync periods and its
channel is selected. Charges that are not are marked with the reason and skipped for good. A
refund follows its charge: skipped when the charge is not synced, waiting while the charge is
not planned yet, quarantined when it asks back more than is left of the charge.

Records are read from the store one business-local day at a time, in order, and each day goes
to the connection's mapper; its documents and the record -> document assignments are inserted
with the caller's session, so the whole plan commits or rolls back with the caller's
transaction. Memory holds one day of records, not the whole history.

The hot statements skip the ORM: rows are read as the driver returns them and converted the
way the store's column types would (:mod:`core.store.driver`); records read back are rebuilt
without re-running their validation, which they passed before they were stored; documents
and assignments go to the driver in multi-row statements (:mod:`core.store.outbox`). Automatic
garbage collection is paused for the pass (it only walked live objects).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select, type_coerce
from sqlalchemy.engine import Connection as DriverConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from core.contracts import ChargeDocuments, Mapper, MappingContext
from core.documents import (
    Document,
    DocumentKind,
    Payment,
)
from core.errors import LedgersyncError
from core.mapping.daily import grouping_options
from core.reasons import (
    OUTSIDE_SYNC_PERIODS,
    QUARANTINED,
    REFUND_OF_UNFETCHED_CHARGE,
    REFUND_OF_UNREADABLE_CHARGE,
    channel_not_selected,
    refund_of_skipped_charge,
)
from core.records import Charge, Quarantined, Record, Refund
from core.store.driver import (
    collection_paused,
    read_moment,
    read_money,
    read_optional_money,
)
from core.store.models import Base, Connection, QuarantinedRecord, SourceRecord, SyncPeriod
from core.store.outbox import OutboxWriter, kind_of
from core.sync.ingest import quarantine_items

__all__ = [
    "PlanOutcome",
    "PlanningError",
    "plan_connection",
]


# Core tables for the bulk writes: executemany without the ORM's per-row bookkeeping.
_DOCUMENTS = Base.metadata.tables["documents"]
_ASSIGNMENTS = Base.metadata.tables["assignments"]
_RECORDS = Base.metadata.tables["source_records"]
_CHARGE_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.PAYMENT, DocumentKind.EXPENSE})


_IN_LIMIT = 500


class PlanningError(LedgersyncError):
    """A mapper produced documents the outbox cannot accept (a bug in the mapper)."""


@dataclass(slots=True)
class PlanOutcome:
    """What one planning pass did (or, in a dry run, would do)."""

    documents: dict[str, int] = field(default_factory=dict)  # planned, per document kind
    skipped: dict[str, int] = field(default_factory=dict)  # records skipped, per reason
    quarantined: int = 0  # refunds moved to quarantine as bad input
    unknown_channels: dict[str, int] = field(default_factory=dict)  # raw channel -> charges
    waiting: int = 0  # records left unassigned for a later run (open day, charge not planned)
    keys: list[str] = field(default_factory=list)  # keys planned (when keep_keys)
    planned: list[Document] = field(default_factory=list)  # the documents, in a dry run
    dry_run: bool = False

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())

    @property
    def unknown_channel(self) -> int:
        """Charges synced under "all channels" whose channel the source did not recognise."""
        return sum(self.unknown_channels.values())


# --------------------------------------------------------------------------- stored values


def _as_returned(*columns: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    """Columns selected as the driver returns them, without the column types' processing."""
    return tuple(type_coerce(column, NullType()) for column in columns)


_new = object.__new__
_set = object.__setattr__  # records are frozen: the way their own __init__ sets fields


def _stored_charge(
    source_id: str,
    created_at: datetime,
    currency: str,
    amount: Decimal,
    fee: Decimal,
    fee_currency: str,
    channel: str | None,
    raw_channel: str | None,
    description: str,
    exchange_rate: Decimal | None,
) -> Charge:
    """A charge read back from the store. It passed its checks when the source made it and
    the store keeps its values exactly, so it is rebuilt without running them again."""
    charge: Charge = _new(Charge)
    _set(charge, "source_id", source_id)
    _set(charge, "created_at", created_at)
    _set(charge, "currency", currency)
    _set(charge, "amount", amount)
    _set(charge, "fee", fee)
    _set(charge, "fee_currency", fee_currency)
    _set(charge, "channel", channel)
    _set(charge, "raw_channel", raw_channel)
    _set(charge, "description", description)
    _set(charge, "exchange_rate", exchange_rate)
    _set(charge, "raw", {})
    return charge


def _stored_refund(
    source_id: str, charge_id: str, created_at: datetime, currency: str, amount: Decimal
) -> Refund:
    """A refund read back from the store (checked when made, like :func:`_stored_charge`)."""
    refund: Refund = _new(Refund)
    _set(refund, "source_id", source_id)
    _set(refund, "charge_id", charge_id)
    _set(refund, "created_at", created_at)
    _set(refund, "currency", currency)
    _set(refund, "amount", amount)
    _set(refund, "raw", {})
    return refund


# --------------------------------------------------------------------------- reading the store

_R = _RECORDS.c
_CHARGE_COLUMNS = _as_returned(
    _R.id,
    _R.source_id,
    _R.created_at,
    _R.currency,
    _R.amount,
    _R.fee,
    _R.fee_currency,
    _R.channel,
    _R.raw_channel,
    _R.description,
    _R.exchange_rate,
)
_REFUND_COLUMNS = _as_returned(
    _R.id, _R.source_id, _R.charge_id, _R.created_at, _R.currency, _R.amount
)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_LIMIT):
        yield values[start : start + _IN_LIMIT]


def _assigned() -> Any:
    return exists().where(_ASSIGNMENTS.c.record_id == _R.id)


def _open(connection_id: int, kind: str) -> Any:
    """Records of one kind that are neither skipped nor assigned to a document."""
    return and_(
        _R.connection_id == connection_id,
        _R.kind == kind,
        _R.skip_reason.is_(None),
        ~_assigned(),
    )


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _days(
    connection: DriverConnection, connection_id: int, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` of each business-local day that holds open records, in order."""
    cursor: datetime | None = None
    while True:
        first: datetime | None = None
        for kind in ("charge", "refund"):
            query = select(_R.created_at).where(_open(connection_id, kind))
            if cursor is not None:
                query = query.where(_R.created_at >= cursor)
            found = connection.scalar(query.order_by(_R.created_at).limit(1))
            if found is not None and (first is None or found < first):
                first = found
        if first is None:
            return
        day = first.astimezone(zone).date()
        start, end = _start_of_day(day, zone), _start_of_day(day + timedelta(days=1), zone)
        start = min(start, first)  # guards against a zone whose midnight is odd
        end = max(end, first + timedelta(microseconds=1))
        yield start, end
        cursor = end


def _records_between(
    connection: DriverConnection,
    columns: Sequence[ColumnElement[Any]],
    connection_id: int,
    kind: str,
    start: datetime,
    end: datetime,
) -> Sequence[Any]:
    """The open records of one kind created in ``[start, end)``, as the driver returns them."""
    return connection.execute(
        select(*columns)
        .where(_open(connection_id, kind), _R.created_at >= start, _R.created_at < end)
        .order_by(_R.created_at, _R.id)
    ).all()


@dataclass(slots=True)
class _ChargeState:
    """What a refund needs to know about its charge."""

    amount: Decimal
    currency: str
    skip_reason: str | None = None
    documents: ChargeDocuments | None = None  # planned in an earlier day or run
    in_day: bool = False  # eligible and handed to the mapper with this day


class _TakenKeys:
    """Keys already planned for the connection, looked up in the store on demand."""

    def __init__(
        self, connection: DriverConnection, connection_id: int, planned_now: set[str]
    ) -> None:
        self._connection = connection
        self._connection_id = connection_id
        self._planned_now = planned_now

    def __contains__(self, key: object) -> bool:
        if key in self._planned_now:
            return True
        found = self._connection.scalar(
            select(_DOCUMENTS.c.id)
            .where(_DOCUMENTS.c.connection_id == self._connection_id, _DOCUMENTS.c.key == key)
            .limit(1)
        )
        return found is not None


# --------------------------------------------------------------------------- the planner


class _Planner:
    def __init__(
        self,
        session: Session,
        connection: Connection,
        mapper: Mapper,
        now: datetime,
        run_id: int | None,
        dry_run: bool,
        keep_keys: bool,
    ) -> None:
        session.flush()  # reads below go to the driver, past the session's autoflush
        self.session = session
        self.connection = session.connection()
        self.connection_id = connection.id
        self.source = connection.source
        self.zone = ZoneInfo(connection.timezone)
        self.channels = None if connection.channels is None else frozenset(connection.channels)
        self.mapper = mapper
        self.options = grouping_options((connection.settings or {}).get("extra"))
        self.now = now
        self.run_id = run_id
        self.dry_run = dry_run
        self.keep_keys = keep_keys
        self.outbox = OutboxWriter(self.connection, connection.id, mapper.name, now, run_id)
        self.periods = [
            (period.started_at, period.ended_at)
            for period in session.scalars(
                select(SyncPeriod).where(SyncPeriod.connection_id == connection.id)
            )
        ]
        self.outcome = PlanOutcome(dry_run=dry_run)
        self.skipped: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.planned_counts: Counter[str] = Counter()
        # Refunds accepted in this run but not visible as planned in the store: the ones
        # left waiting, and in a dry run all of them. They count against their charge.
        self.refunded_now: dict[str, Decimal] = {}
        # Dry run only: what this run would have written, for the days after.
        self.keys_now: set[str] = set()
        self.charges_now: dict[str, ChargeDocuments] = {}
        self.skipped_now: dict[str, str] = {}

    def run(self) -> PlanOutcome:
        for start, end in list(_days(self.connection, self.connection_id, self.zone)):
            self._plan_day(start, end)
        self.outcome.skipped = dict(self.skipped)
        self.outcome.unknown_channels = dict(self.unknown)
        self.outcome.documents = dict(self.planned_counts)
        return self.outcome

    # -- eligibility --------------------------------------------------------------------

    def _in_periods(self, created: datetime) -> bool:
        return any(
            started <= created and (ended is None or created < ended)
            for started, ended in self.periods
        )

    def _covers(self, start: datetime, end: datetime) -> bool:
        """Whether one sync period holds all of ``[start, end)``."""
        return any(
            started <= start and (ended is None or end <= ended) for started, ended in self.periods
        )

    def _plan_day(self, start: datetime, end: datetime) -> None:
        connection, connection_id = self.connection, self.connection_id
        refund_rows = _records_between(
            connection, _REFUND_COLUMNS, connection_id, "refund", start, end
        )
        refunded = {row[2] for row in refund_rows}  # the charges the day's refunds name
        skips: list[tuple[int, str]] = []
        charges: list[Charge] = []
        charge_rows: dict[str, int] = {}
        states: dict[str, _ChargeState] = {}
        unknown: dict[str, str] = {}
        whole_day = self._covers(start, end)
        channels = self.channels
        for (
            record_id,
            source_id,
            created,
            currency,
            amount,
            fee,
            fee_currency,
            channel,
            raw_channel,
            description,
            exchange_rate,
        ) in _records_between(connection, _CHARGE_COLUMNS, connection_id, "charge", start, end):
            created = read_moment(created)
            amount = read_money(amount)
            reason: str | None = None
            if not whole_day and not self._in_periods(created):
                reason = OUTSIDE_SYNC_PERIODS
            elif channels is not None and (channel is None or channel not in channels):
                reason = channel_not_selected(channel, raw_channel)
            if source_id in refunded:
                states[source_id] = _ChargeState(
                    amount, currency, skip_reason=reason, in_day=reason is None
                )
            if reason is not None:
                skips.append((record_id, reason))
                if self.dry_run:
                    self.skipped_now[source_id] = reason
                continue
            if channel is None:
                unknown[source_id] = raw_channel or "(none)"
            charges.append(
                _stored_charge(
                    source_id,
                    created,
                    currency,
                    amount,
                    read_money(fee),
                    fee_currency,
                    channel,
                    raw_channel,
                    description or "",
                    read_optional_money(exchange_rate),
                )
            )
            charge_rows[source_id] = record_id

        refunds, refund_ids, quarantined = self._judge_refunds(refund_rows, states, skips)
        records: list[Record] = [*charges, *refunds]
        documents: list[Document] = []
        if records:
            context = MappingContext(
                source=self.source,
                timezone=self.zone,
                now=self.now,
                charge_documents={
                    charge_id: state.documents
                    for charge_id, state in states.items()
                    if state.documents is not None
                },
                taken_keys=_TakenKeys(connection, connection_id, self.keys_now),
                options=self.options,
            )
            documents = list(self.mapper.plan(records, context))
        covered = self._store(documents, charge_rows, refund_ids)
        self._count(documents, unknown)
        for refund in refunds:
            if refund.source_id not in covered["refund"] or self.dry_run:
                self.refunded_now[refund.charge_id] = (
                    self.refunded_now.get(refund.charge_id, Decimal(0)) + refund.amount
                )
        self.outcome.waiting += len(charges) - len(covered["charge"])
        self.outcome.waiting += len(refunds) - len(covered["refund"])
        self._skip(skips)
        self._quarantine(quarantined)

    # -- refunds --------------------------------------------------------------------------

    def _judge_refunds(
        self,
        rows: Sequence[Any],
        states: dict[str, _ChargeState],
        skips: list[tuple[int, str]],
    ) -> tuple[list[Refund], dict[str, int], list[tuple[int, Refund, str]]]:
        """Split the day's refunds into those for the mapper, skips, waits and quarantines."""
        if not rows:
            return [], {}, []
        self._load_charges({row[2] for row in rows} - states.keys(), states)
        refunded = self._planned_refunds({row[2] for row in rows})
        accepted: list[Refund] = []
        accepted_ids: dict[str, int] = {}
        quarantined: list[tuple[int, Refund, str]] = []
        for record_id, source_id, charge_id, created, currency, amount in rows:
            state = states.get(charge_id)
            if state is None:
                continue  # cannot happen: _load_charges gives every charge a state
            if state.skip_reason is not None:
                skips.append((record_id, state.skip_reason))
                continue
            if state.documents is None and not state.in_day:
                self.outcome.waiting += 1  # its charge is fetched but not planned yet
                continue
            refund = _stored_refund(
                source_id, charge_id, read_moment(created), currency, read_money(amount)
            )
            already = refunded.get(charge_id, Decimal(0))
            already += self.refunded_now.get(charge_id, Decimal(0))
            problem = _refund_problem(refund, state, already)
            if problem is not None:
                quarantined.append((record_id, refund, problem))
                continue
            refunded[charge_id] = refunded.get(charge_id, Decimal(0)) + refund.amount
            accepted.append(refund)
            accepted_ids[source_id] = record_id
        return accepted, accepted_ids, quarantined

    def _load_charges(self, charge_ids: set[str], states: dict[str, _ChargeState]) -> None:
        """States of refunded charges outside this day: skipped, planned, waiting or absent."""
        wanted = sorted(charge_ids)
        found_rows: dict[int, str] = {}
        for chunk in _chunks(wanted):
            for record_id, source_id, amount, currency, skip_reason in self.connection.execute(
                select(
                    *_as_returned(_R.id, _R.source_id, _R.amount, _R.currency, _R.skip_reason)
                ).where(
                    _R.connection_id == self.connection_id,
                    _R.kind == "charge",
                    _R.source_id.in_(chunk),
                )
            ):
                # In a dry run, a charge skipped on an earlier day is only skipped in memory.
                reason = skip_reason or self.skipped_now.get(source_id)
                states[source_id] = _ChargeState(read_money(amount), currency, skip_reason=reason)
                found_rows[record_id] = source_id
        self._attach_documents(found_rows, states)
        missing = sorted(charge_ids - states.keys())
        unreadable = self._quarantined_charges(missing)
        for charge_id in missing:
            reason = (
                REFUND_OF_UNREADABLE_CHARGE
                if charge_id in unreadable
                else REFUND_OF_UNFETCHED_CHARGE
            )
            states[charge_id] = _ChargeState(Decimal(0), "", skip_reason=reason)
        for state in states.values():
            if state.skip_reason is not None and state.skip_reason not in (
                REFUND_OF_UNFETCHED_CHARGE,
                REFUND_OF_UNREADABLE_CHARGE,
            ):
                state.skip_reason = refund_of_skipped_charge(state.skip_reason)

    def _attach_documents(self, rows: dict[int, str], states: dict[str, _ChargeState]) -> None:
        keys: dict[int, dict[str, str]] = {}
        assignments, documents = _ASSIGNMENTS.c, _DOCUMENTS.c
        for chunk in _chunks(sorted(rows)):
            for record_id, kind, key in self.connection.execute(
                select(assignments.record_id, assignments.kind, documents.key)
                .join_from(_ASSIGNMENTS, _DOCUMENTS, documents.id == assignments.document_id)
                .where(
                    assignments.record_id.in_(chunk),
                    assignments.kind.in_((DocumentKind.INVOICE.value, DocumentKind.PAYMENT.value)),
                )
            ):
                keys.setdefault(record_id, {})[kind] = key
        for record_id, charge_id in rows.items():
            found = keys.get(record_id, {})
            if DocumentKind.INVOICE.value in found:
                states[charge_id].documents = ChargeDocuments(
                    invoice_key=found[DocumentKind.INVOICE.value],
                    payment_key=found.get(DocumentKind.PAYMENT.value, ""),
                )
        for charge_id in rows.values():  # dry run: planned on an earlier day of this run
            state = states[charge_id]
            if state.documents is None and charge_id in self.charges_now:
                state.documents = self.charges_now[charge_id]

    def _quarantined_charges(self, charge_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        quarantine = QuarantinedRecord.__table__.c
        for chunk in _chunks(charge_ids):
            found.update(
                self.connection.scalars(
                    select(quarantine.source_id).where(
                        quarantine.connection_id == self.connection_id,
                        quarantine.kind == "charge",
                        quarantine.source_id.in_(chunk),
                        quarantine.resolved_at.is_(None),
                    )
                )
            )
        return found

    def _planned_refunds(self, charge_ids: set[str]) -> dict[str, Decimal]:
        """Σ refunds already planned per charge, from the store."""
        totals: dict[str, Decimal] = {}
        sql = self.outbox.sql
        for chunk in _chunks(sorted(charge_ids)):
            for charge_id, amount in sql.fetch(
                # Found through the charge_id index: "+ 0" and "|| ''" keep SQLite from
                # walking every refund of the connection by (connection_id, kind) instead.
                "SELECT charge_id, amount FROM source_records "
                "WHERE connection_id + 0 = ? AND kind || '' = ? "
                f"AND charge_id IN ({sql.markers(len(chunk))}) "
                "AND EXISTS (SELECT 1 FROM assignments WHERE record_id = source_records.id)",
                (self.connection_id, "refund", *chunk),
            ):
                key = str(charge_id)
                totals[key] = totals.get(key, Decimal(0)) + read_money(amount)
        return totals

    # -- writing --------------------------------------------------------------------------

    def _store(
        self,
        documents: Sequence[Document],
        charge_rows: Mapping[str, int],
        refund_rows: Mapping[str, int],
    ) -> dict[str, set[str]]:
        """Insert the documents and assignments; return the source ids covered, per kind."""
        covered: dict[str, set[str]] = {"charge": set(), "refund": set()}
        groups: list[tuple[str, list[int], str]] = []  # (document key, record rows, kind)
        seen: dict[str, set[int]] = {}  # record rows per document kind
        for document in documents:
            kind = kind_of(document)
            side = "charge" if kind in _CHARGE_KINDS else "refund"
            rows = charge_rows if side == "charge" else refund_rows
            record_ids = document.record_ids
            try:
                if len(record_ids) == 1:
                    row_ids = [rows[record_ids[0]]]
                else:
                    row_ids = [rows[record_id] for record_id in record_ids]
            except KeyError as missing:
                raise self._mapper_bug(
                    f"document {document.key} covers {missing.args[0]!r}, which was not given "
                    f"to it as an eligible {side}"
                ) from None
            already = seen.get(kind)
            if already is None:
                already = seen[kind] = set()
            before = len(already)
            already.update(row_ids)
            if len(already) != before + len(row_ids):
                raise self._mapper_bug(f"a record is in two {kind} documents ({document.key})")
            groups.append((document.key, row_ids, kind))
            covered[side].update(record_ids)
        if self.dry_run:
            self._remember(documents)
            return covered
        if documents:
            ids = self._insert_documents(documents)
            self.outbox.insert_assignments(
                [(ids[key], row_ids, kind) for key, row_ids, kind in groups]
            )
        return covered

    def _insert_documents(self, documents: Sequence[Document]) -> dict[str, int]:
        """Insert the documents; their ids by key."""
        try:
            ids = self.outbox.insert_documents(documents)
        except IntegrityError as error:
            raise self._mapper_bug(
                f"it planned a key that is already planned ({error.orig})"
            ) from None
        if len(ids) != len(documents):
            raise self._mapper_bug("it planned one key twice")
        return ids

    def _remember(self, documents: Sequence[Document]) -> None:
        """Dry run: keep what would have been written so later days see it."""
        payments = {
            invoice_key: document.key
            for document in documents
            if isinstance(document, Payment)
            for invoice_key in document.depends_on
        }
        for document in documents:
            if document.key in self.keys_now:
                raise self._mapper_bug(f"it planned key {document.key} twice")
            self.keys_now.add(document.key)
            if document.kind is DocumentKind.INVOICE:
                planned = ChargeDocuments(document.key, payments.get(document.key, ""))
                for charge_id in document.record_ids:
                    self.charges_now[charge_id] = planned
        self.outcome.planned.extend(documents)

    def _count(self, documents: Sequence[Document], unknown: Mapping[str, str]) -> None:
        self.planned_counts.update(map(kind_of, documents))
        if self.keep_keys:
            self.outcome.keys.extend(document.key for document in documents)
        if not unknown:
            return
        for document in documents:
            if document.kind is DocumentKind.INVOICE:
                for charge_id in document.record_ids:
                    channel = unknown.get(charge_id)
                    if channel is not None:
                        self.unknown[channel] += 1

    def _skip(self, skips: Sequence[tuple[int, str]]) -> None:
        for _row_id, reason in skips:
            self.skipped[reason] += 1
        if skips and not self.dry_run:
            self.outbox.set_skip_reasons(skips)

    def _quarantine(self, items: Sequence[tuple[int, Refund, str]]) -> None:
        self.outcome.quarantined += len(items)
        if not items or self.dry_run:
            return
        quarantine_items(
            self.session,
            self.connection_id,
            [
                Quarantined(
                    reason=reason,
                    payload=self._payload(record_id),
                    source_id=refund.source_id,
                    kind="refund",
                )
                for record_id, refund, reason in items
            ],
            self.now,
        )
        self.outbox.set_skip_reasons(
            [(record_id, QUARANTINED + reason) for record_id, _refund, reason in items]
        )

    def _payload(self, record_id: int) -> dict[str, Any]:
        payload = self.session.scalar(
            select(SourceRecord.payload).where(SourceRecord.id == record_id)
        )
        return dict(payload or {})

    def _mapper_bug(self, detail: str) -> PlanningError:
        return PlanningError(
            f"mapper {self.mapper.name!r} produced a plan the outbox cannot accept: {detail}.",
            "Nothing was planned; this is a bug in the mapper, report it to its authors.",
        )


def _refund_problem(row: Refund, charge: _ChargeState, already: Decimal) -> str | None:
    """Why a refund is bad input, or None: it must fit what is left of its charge."""
    if row.currency != charge.currency:
        return (
            f"refund {row.source_id} is in {row.currency} but its charge {row.charge_id} "
            f"is in {charge.currency}"
        )
    remaining = charge.amount - already
    if row.amount > remaining:
        return (
            f"refund {row.source_id} of {row.amount} {row.currency} exceeds the {remaining} "
            f"{row.currency} still refundable on charge {row.charge_id} "
            f"(charged {charge.amount}, refunded before {already})"
        )
    return None


def plan_connection(
    session: Session,
    connection_id: int,
    mapper: Mapper,
    now: datetime,
    *,
    run_id: int | None = None,
    dry_run: bool = False,
    keep_keys: bool = True,
) -> PlanOutcome:
    """Plan every eligible, unassigned record of the connection with ``mapper``.

    Everything is written through ``session`` and commits with the caller's transaction. With
    ``dry_run`` nothing is written: the outcome lists the documents that would be planned.
    ``keep_keys=False`` leaves ``outcome.keys`` empty for very large runs.
    """
    connection = session.get_one(Connection, connection_id)
    planner = _Planner(session, connection, mapper, now, run_id, dry_run, keep_keys)
    with collection_paused():
        return planner.run()
