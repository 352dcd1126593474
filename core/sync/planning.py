"""The outbox planner: eligible, unassigned records -> planned documents, in one transaction.

A charge is eligible when it was created inside one of the connection's sync periods and its
channel is selected. Charges that are not are marked with the reason and skipped for good. A
refund follows its charge: skipped when the charge is not synced, waiting while the charge is
not planned yet, quarantined when it asks back more than is left of the charge.

Records are read from the store one business-local day at a time, in order, and each day goes
to the connection's mapper; its documents and the record -> document assignments are inserted
with the caller's session, so the whole plan commits or rolls back with the caller's
transaction. Memory holds one day of records, not the whole history.

Every read goes through :class:`core.store.open_records.OpenRecords` and every write through
:class:`core.store.outbox.OutboxWriter`: the hot statements skip the ORM there, behind domain
methods. Which refunds go to the mapper is :mod:`core.sync.refund_rules`. Automatic garbage
collection is paused for the pass (it only walked live objects).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.contracts import ChargeDocuments, Mapper, MappingContext
from core.documents import (
    Document,
    DocumentKind,
    Payment,
)
from core.mapping.daily import grouping_options
from core.reasons import (
    OUTSIDE_SYNC_PERIODS,
    QUARANTINED,
    channel_not_selected,
)
from core.records import Charge, Quarantined, Record, Refund
from core.store.driver import (
    collection_paused,
    read_moment,
    read_money,
    read_optional_money,
)
from core.store.open_records import (
    OpenRecords,
    planned_connection,
    record_payload,
    stored_charge,
)
from core.store.outbox import KeyTaken, OutboxWriter, kind_of
from core.store.sync_periods import periods_in_order
from core.sync.ingest import quarantine_items
from core.sync.plan_outcome import PlanningError, PlanOutcome, TakenKeys
from core.sync.refund_rules import ChargeState, RefundJudge

if TYPE_CHECKING:  # the store's types, named in signatures only
    from sqlalchemy.orm import Session

    from core.store.models import Connection

__all__ = [
    "PlanOutcome",
    "PlanningError",
    "plan_connection",
]


_CHARGE_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.PAYMENT, DocumentKind.EXPENSE})


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
        self.records = OpenRecords(self.connection, connection.id, self.outbox.sql)
        self.periods = periods_in_order(session, connection.id)
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
        self.refunds = RefundJudge(
            self.records, self.refunded_now, self.skipped_now, self.charges_now
        )

    def run(self) -> PlanOutcome:
        for start, end in list(self.records.days(self.zone)):
            self._plan_day(start, end)
        self.outcome.waiting += self.refunds.waiting
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
        refund_rows = self.records.refunds(start, end)
        refunded = {row[2] for row in refund_rows}  # the charges the day's refunds name
        skips: list[tuple[int, str]] = []
        charges: list[Charge] = []
        charge_rows: dict[str, int] = {}
        states: dict[str, ChargeState] = {}
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
        ) in self.records.charges(start, end):
            created = read_moment(created)
            amount = read_money(amount)
            reason: str | None = None
            if not whole_day and not self._in_periods(created):
                reason = OUTSIDE_SYNC_PERIODS
            elif channels is not None and (channel is None or channel not in channels):
                reason = channel_not_selected(channel, raw_channel)
            if source_id in refunded:
                states[source_id] = ChargeState(
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
                stored_charge(
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

        refunds, refund_ids, quarantined = self.refunds.judge(refund_rows, states, skips)
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
                taken_keys=TakenKeys(self.records, self.keys_now),
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
        except KeyTaken as error:
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
                    payload=record_payload(self.session, record_id),
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

    def _mapper_bug(self, detail: str) -> PlanningError:
        return PlanningError(
            f"mapper {self.mapper.name!r} produced a plan the outbox cannot accept: {detail}.",
            "Nothing was planned; this is a bug in the mapper, report it to its authors.",
        )


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
    connection = planned_connection(session, connection_id)
    planner = _Planner(session, connection, mapper, now, run_id, dry_run, keep_keys)
    with collection_paused():
        return planner.run()
