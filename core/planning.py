"""The outbox planner: eligible, unassigned records -> planned documents, in one transaction.

A charge is eligible when it was created inside one of the connection's sync periods and its
channel is selected. Charges that are not are marked with the reason and skipped for good. A
refund follows its charge: skipped when the charge is not synced, waiting while the charge is
not planned yet, quarantined when it asks back more than is left of the charge.

Records are read from the store one business-local day at a time, in order, and each day goes
to the connection's mapper; its documents and the record -> document assignments are inserted
with the caller's session, so the whole plan commits or rolls back with the caller's
transaction. Memory holds one day of records, not the whole history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, and_, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.contracts import ChargeDocuments, Mapper, MappingContext
from core.documents import Document, DocumentKind
from core.errors import LedgersyncError
from core.ingest import (
    REFUND_OF_UNFETCHED_CHARGE,
    REFUND_OF_UNREADABLE_CHARGE,
    quarantine_items,
)
from core.records import Charge, Quarantined, Record, Refund
from core.store.models import (
    Assignment,
    Base,
    Connection,
    DocumentRow,
    QuarantinedRecord,
    SourceRecord,
    SyncPeriod,
)

__all__ = [
    "OUTSIDE_SYNC_PERIODS",
    "QUARANTINED",
    "PlanOutcome",
    "PlanningError",
    "channel_not_selected",
    "plan_connection",
    "refund_of_skipped_charge",
]

OUTSIDE_SYNC_PERIODS = "created while sync was disabled or before it was enabled"
QUARANTINED = "quarantined: "  # prefix of the skip reason of a record moved to quarantine

# Core tables for the bulk writes: executemany without the ORM's per-row bookkeeping.
_DOCUMENTS = Base.metadata.tables["documents"]
_ASSIGNMENTS = Base.metadata.tables["assignments"]
_RECORDS = Base.metadata.tables["source_records"]
_SET_SKIP_REASON = (
    update(_RECORDS)
    .where(_RECORDS.c.id == bindparam("record_id"))
    .values(skip_reason=bindparam("reason"))
)

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # DBAPI positional markers

_CHARGE_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.PAYMENT, DocumentKind.EXPENSE})
_IN_LIMIT = 500


def channel_not_selected(channel: str | None, raw_channel: str | None) -> str:
    """The skip reason of a charge from a channel the connection does not sync."""
    if channel is None:
        return f"its channel {raw_channel or '(none)'!r} is unknown and not among those selected"
    return f"its channel {channel} is not selected"


def refund_of_skipped_charge(charge_reason: str) -> str:
    return f"refund of a charge that is not synced ({charge_reason})"


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


# --------------------------------------------------------------------------- reading the store

_COLUMNS = (
    SourceRecord.id,
    SourceRecord.kind,
    SourceRecord.source_id,
    SourceRecord.charge_id,
    SourceRecord.created_at,
    SourceRecord.currency,
    SourceRecord.amount,
    SourceRecord.fee,
    SourceRecord.fee_currency,
    SourceRecord.channel,
    SourceRecord.raw_channel,
    SourceRecord.description,
    SourceRecord.exchange_rate,
)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_LIMIT):
        yield values[start : start + _IN_LIMIT]


def _open(connection_id: int, kind: str) -> Any:
    """Records of one kind that are neither skipped nor assigned to a document."""
    assigned = exists().where(Assignment.record_id == SourceRecord.id)
    return and_(
        SourceRecord.connection_id == connection_id,
        SourceRecord.kind == kind,
        SourceRecord.skip_reason.is_(None),
        ~assigned,
    )


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _days(
    session: Session, connection_id: int, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` of each business-local day that holds open records, in order."""
    cursor: datetime | None = None
    while True:
        first: datetime | None = None
        for kind in ("charge", "refund"):
            query = select(SourceRecord.created_at).where(_open(connection_id, kind))
            if cursor is not None:
                query = query.where(SourceRecord.created_at >= cursor)
            found = session.scalar(query.order_by(SourceRecord.created_at).limit(1))
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
    session: Session, connection_id: int, kind: str, start: datetime, end: datetime
) -> list[Row[Any]]:
    return list(
        session.execute(
            select(*_COLUMNS)
            .where(
                _open(connection_id, kind),
                SourceRecord.created_at >= start,
                SourceRecord.created_at < end,
            )
            .order_by(SourceRecord.created_at, SourceRecord.id)
        )
    )


def _charge(row: Row[Any]) -> Charge:
    return Charge(
        source_id=row.source_id,
        created_at=row.created_at,
        currency=row.currency,
        amount=row.amount,
        fee=row.fee,
        fee_currency=row.fee_currency,
        channel=row.channel,
        raw_channel=row.raw_channel,
        description=row.description or "",
        exchange_rate=row.exchange_rate,
    )


def _refund(row: Row[Any]) -> Refund:
    return Refund(
        source_id=row.source_id,
        charge_id=row.charge_id,
        created_at=row.created_at,
        currency=row.currency,
        amount=row.amount,
    )


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

    def __init__(self, session: Session, connection_id: int, planned_now: set[str]) -> None:
        self._session = session
        self._connection_id = connection_id
        self._planned_now = planned_now

    def __contains__(self, key: object) -> bool:
        if key in self._planned_now:
            return True
        found = self._session.scalar(
            select(DocumentRow.id)
            .where(DocumentRow.connection_id == self._connection_id, DocumentRow.key == key)
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
        self.session = session
        self.connection_id = connection.id
        self.source = connection.source
        self.zone = ZoneInfo(connection.timezone)
        self.channels = None if connection.channels is None else frozenset(connection.channels)
        self.mapper = mapper
        self.now = now
        self.run_id = run_id
        self.dry_run = dry_run
        self.keep_keys = keep_keys
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
        for start, end in list(_days(self.session, self.connection_id, self.zone)):
            self._plan_day(start, end)
        self.outcome.skipped = dict(self.skipped)
        self.outcome.unknown_channels = dict(self.unknown)
        self.outcome.documents = dict(self.planned_counts)
        return self.outcome

    # -- eligibility --------------------------------------------------------------------

    def _charge_skip_reason(self, row: Row[Any]) -> str | None:
        created = row.created_at
        if not any(
            started <= created and (ended is None or created < ended)
            for started, ended in self.periods
        ):
            return OUTSIDE_SYNC_PERIODS
        if self.channels is not None and (row.channel is None or row.channel not in self.channels):
            return channel_not_selected(row.channel, row.raw_channel)
        return None

    def _plan_day(self, start: datetime, end: datetime) -> None:
        skips: list[tuple[int, str]] = []
        charges: list[Charge] = []
        charge_rows: dict[str, int] = {}
        states: dict[str, _ChargeState] = {}
        unknown: dict[str, str] = {}
        for row in _records_between(self.session, self.connection_id, "charge", start, end):
            reason = self._charge_skip_reason(row)
            states[row.source_id] = _ChargeState(
                row.amount, row.currency, skip_reason=reason, in_day=reason is None
            )
            if reason is not None:
                skips.append((row.id, reason))
                if self.dry_run:
                    self.skipped_now[row.source_id] = reason
                continue
            if row.channel is None:
                unknown[row.source_id] = row.raw_channel or "(none)"
            charges.append(_charge(row))
            charge_rows[row.source_id] = row.id

        refund_rows = _records_between(self.session, self.connection_id, "refund", start, end)
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
                taken_keys=_TakenKeys(self.session, self.connection_id, self.keys_now),
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
        rows: Sequence[Row[Any]],
        states: dict[str, _ChargeState],
        skips: list[tuple[int, str]],
    ) -> tuple[list[Refund], dict[str, int], list[tuple[Row[Any], str]]]:
        """Split the day's refunds into those for the mapper, skips, waits and quarantines."""
        if not rows:
            return [], {}, []
        self._load_charges({row.charge_id for row in rows} - states.keys(), states)
        refunded = self._planned_refunds({row.charge_id for row in rows})
        accepted: list[Refund] = []
        accepted_ids: dict[str, int] = {}
        quarantined: list[tuple[Row[Any], str]] = []
        for row in rows:
            state = states.get(row.charge_id)
            if state is None:
                continue  # cannot happen: _load_charges gives every charge a state
            if state.skip_reason is not None:
                skips.append((row.id, state.skip_reason))
                continue
            if state.documents is None and not state.in_day:
                self.outcome.waiting += 1  # its charge is fetched but not planned yet
                continue
            already = refunded.get(row.charge_id, Decimal(0))
            already += self.refunded_now.get(row.charge_id, Decimal(0))
            problem = _refund_problem(row, state, already)
            if problem is not None:
                quarantined.append((row, problem))
                continue
            refunded[row.charge_id] = refunded.get(row.charge_id, Decimal(0)) + row.amount
            accepted.append(_refund(row))
            accepted_ids[row.source_id] = row.id
        return accepted, accepted_ids, quarantined

    def _load_charges(self, charge_ids: set[str], states: dict[str, _ChargeState]) -> None:
        """States of refunded charges outside this day: skipped, planned, waiting or absent."""
        wanted = sorted(charge_ids)
        found_rows: dict[int, str] = {}
        for chunk in _chunks(wanted):
            for row in self.session.execute(
                select(
                    SourceRecord.id,
                    SourceRecord.source_id,
                    SourceRecord.amount,
                    SourceRecord.currency,
                    SourceRecord.skip_reason,
                ).where(
                    SourceRecord.connection_id == self.connection_id,
                    SourceRecord.kind == "charge",
                    SourceRecord.source_id.in_(chunk),
                )
            ):
                # In a dry run, a charge skipped on an earlier day is only skipped in memory.
                reason = row.skip_reason or self.skipped_now.get(row.source_id)
                states[row.source_id] = _ChargeState(row.amount, row.currency, skip_reason=reason)
                found_rows[row.id] = row.source_id
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
        for chunk in _chunks(sorted(rows)):
            for record_id, kind, key in self.session.execute(
                select(Assignment.record_id, Assignment.kind, DocumentRow.key)
                .join(DocumentRow, DocumentRow.id == Assignment.document_id)
                .where(
                    Assignment.record_id.in_(chunk),
                    Assignment.kind.in_((DocumentKind.INVOICE.value, DocumentKind.PAYMENT.value)),
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
        for chunk in _chunks(charge_ids):
            found.update(
                self.session.scalars(
                    select(QuarantinedRecord.source_id).where(
                        QuarantinedRecord.connection_id == self.connection_id,
                        QuarantinedRecord.kind == "charge",
                        QuarantinedRecord.source_id.in_(chunk),
                        QuarantinedRecord.resolved_at.is_(None),
                    )
                )
            )
        return found

    def _planned_refunds(self, charge_ids: set[str]) -> dict[str, Decimal]:
        """Σ refunds already planned per charge, from the store."""
        totals: dict[str, Decimal] = {}
        assigned = exists().where(Assignment.record_id == SourceRecord.id)
        for chunk in _chunks(sorted(charge_ids)):
            for charge_id, amount in self.session.execute(
                select(SourceRecord.charge_id, SourceRecord.amount).where(
                    SourceRecord.connection_id == self.connection_id,
                    SourceRecord.kind == "refund",
                    SourceRecord.charge_id.in_(chunk),
                    assigned,
                )
            ):
                key = str(charge_id)
                totals[key] = totals.get(key, Decimal(0)) + amount
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
        assignments: list[tuple[int, list[int], str]] = []  # (document index, rows, kind)
        seen: dict[str, set[int]] = {}  # record rows per document kind
        for index, document in enumerate(documents):
            kind = str(document.kind)
            side = "charge" if kind in _CHARGE_KINDS else "refund"
            rows = charge_rows if side == "charge" else refund_rows
            try:
                row_ids = [rows[record_id] for record_id in document.record_ids]
            except KeyError as missing:
                raise self._mapper_bug(
                    f"document {document.key} covers {missing.args[0]!r}, which was not given "
                    f"to it as an eligible {side}"
                ) from None
            already = seen.setdefault(kind, set())
            before = len(already)
            already.update(row_ids)
            if len(already) != before + len(row_ids):
                raise self._mapper_bug(f"a record is in two {kind} documents ({document.key})")
            assignments.append((index, row_ids, kind))
            covered[side].update(document.record_ids)
        if self.dry_run:
            self._remember(documents)
            return covered
        if documents:
            document_ids = self._insert_documents(documents)
            self._insert_assignments(
                [
                    (document_ids[index], row_id, kind)
                    for index, row_ids, kind in assignments
                    for row_id in row_ids
                ]
            )
        return covered

    def _insert_assignments(self, rows: list[tuple[int, int, str]]) -> None:
        """Several rows per record: plain ints and a name go straight to the driver's
        executemany, skipping per-value type processing they do not need."""
        connection = self.session.connection()
        marker = _MARKERS.get(connection.dialect.paramstyle)
        if marker is None:
            columns = ("document_id", "record_id", "kind")
            self.session.execute(
                insert(_ASSIGNMENTS), [dict(zip(columns, row, strict=True)) for row in rows]
            )
            return
        connection.exec_driver_sql(
            f"INSERT INTO assignments (document_id, record_id, kind) "
            f"VALUES ({marker}, {marker}, {marker})",
            rows,
        )

    def _insert_documents(self, documents: Sequence[Document]) -> list[int]:
        """Insert the documents; their ids, in the same order."""
        rows = [
            {
                "connection_id": self.connection_id,
                "key": document.key,
                "kind": str(document.kind),
                "mode": self.mapper.name,
                "doc_date": document.date,
                "currency": document.currency,
                "amount": document.amount,
                "body": document.to_dict(),
                "state": "planned",
                "attempts": 0,
                "planned_at": self.now,
                "run_id": self.run_id,
            }
            for document in documents
        ]
        try:
            # Ids come back with their keys, in batches; asking for them in parameter order
            # would make SQLite insert one row per statement.
            result = self.session.execute(
                insert(_DOCUMENTS).returning(_DOCUMENTS.c.key, _DOCUMENTS.c.id), rows
            )
            ids: dict[str, int] = {key: row_id for key, row_id in result}
        except IntegrityError as error:
            raise self._mapper_bug(
                f"it planned a key that is already planned ({error.orig})"
            ) from None
        if len(ids) != len(documents):
            raise self._mapper_bug("it planned one key twice")
        return [ids[document.key] for document in documents]

    def _remember(self, documents: Sequence[Document]) -> None:
        """Dry run: keep what would have been written so later days see it."""
        payments = {
            document.invoice_key: document.key  # type: ignore[attr-defined]
            for document in documents
            if document.kind is DocumentKind.PAYMENT
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
        for document in documents:
            self.planned_counts[document.kind.value] += 1
            if self.keep_keys:
                self.outcome.keys.append(document.key)
            if unknown and document.kind is DocumentKind.INVOICE:
                for charge_id in document.record_ids:
                    channel = unknown.get(charge_id)
                    if channel is not None:
                        self.unknown[channel] += 1

    def _skip(self, skips: Sequence[tuple[int, str]]) -> None:
        for _row_id, reason in skips:
            self.skipped[reason] += 1
        if skips and not self.dry_run:
            self.session.execute(
                _SET_SKIP_REASON,
                [{"record_id": row_id, "reason": reason} for row_id, reason in skips],
            )

    def _quarantine(self, items: Sequence[tuple[Row[Any], str]]) -> None:
        self.outcome.quarantined += len(items)
        if not items or self.dry_run:
            return
        quarantine_items(
            self.session,
            self.connection_id,
            [
                Quarantined(
                    reason=reason,
                    payload=self._payload(row.id),
                    source_id=row.source_id,
                    kind="refund",
                )
                for row, reason in items
            ],
            self.now,
        )
        self.session.execute(
            _SET_SKIP_REASON,
            [{"record_id": row.id, "reason": QUARANTINED + reason} for row, reason in items],
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


def _refund_problem(row: Row[Any], charge: _ChargeState, already: Decimal) -> str | None:
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
    return planner.run()
