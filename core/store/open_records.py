"""What planning reads from the store: open records day by day, and what earlier plans left.

A record is *open* when it is neither skipped nor assigned to a document. Planning asks, in
its own terms, for the business-local days that hold open records (:meth:`OpenRecords.days`),
a day's open charges and refunds, the state of refunded charges outside the day, the refunds
already planned per charge and whether a key is taken; every statement is here.

These are the hot reads: rows come back as the driver returns them and are converted the way
the store's column types would (:mod:`core.store.driver`); records read back are rebuilt
without re-running their validation, which they passed before they were stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select, type_coerce
from sqlalchemy.engine import Connection as DriverConnection
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from core.documents import DocumentKind
from core.records import Charge, Refund
from core.store.driver import DriverSql, chunks, read_money
from core.store.models import Base, Connection, QuarantinedRecord, SourceRecord

__all__ = [
    "ChargeRow",
    "OpenRecords",
    "RefundRow",
    "planned_connection",
    "record_payload",
    "stored_charge",
    "stored_refund",
]

_DOCUMENTS = Base.metadata.tables["documents"]
_ASSIGNMENTS = Base.metadata.tables["assignments"]
_RECORDS = Base.metadata.tables["source_records"]
_R = _RECORDS.c

# A day's open charge, as the driver returns it: (record id, source id, created_at, currency,
# amount, fee, fee_currency, channel, raw_channel, description, exchange_rate).
ChargeRow = Sequence[Any]
# A day's open refund: (record id, source id, charge id, created_at, currency, amount).
RefundRow = Sequence[Any]


def _as_returned(*columns: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    """Columns selected as the driver returns them, without the column types' processing."""
    return tuple(type_coerce(column, NullType()) for column in columns)


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

_new = object.__new__


def _setter(cls: type[Any], name: str) -> Any:
    """The slot's own setter of a frozen record class: the way its ``__init__`` sets the field
    (``object.__setattr__``), without looking the slot up on every call."""
    return cls.__dict__[name].__set__


(
    _charge_source_id,
    _charge_created_at,
    _charge_currency,
    _charge_amount,
    _charge_fee,
    _charge_fee_currency,
    _charge_channel,
    _charge_raw_channel,
    _charge_description,
    _charge_exchange_rate,
    _charge_raw,
) = (
    _setter(Charge, name)
    for name in (
        "source_id",
        "created_at",
        "currency",
        "amount",
        "fee",
        "fee_currency",
        "channel",
        "raw_channel",
        "description",
        "exchange_rate",
        "raw",
    )
)
_set = object.__setattr__


def stored_charge(
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
    _charge_source_id(charge, source_id)
    _charge_created_at(charge, created_at)
    _charge_currency(charge, currency)
    _charge_amount(charge, amount)
    _charge_fee(charge, fee)
    _charge_fee_currency(charge, fee_currency)
    _charge_channel(charge, channel)
    _charge_raw_channel(charge, raw_channel)
    _charge_description(charge, description)
    _charge_exchange_rate(charge, exchange_rate)
    _charge_raw(charge, {})
    return charge


def stored_refund(
    source_id: str, charge_id: str, created_at: datetime, currency: str, amount: Decimal
) -> Refund:
    """A refund read back from the store (checked when made, like :func:`stored_charge`)."""
    refund: Refund = _new(Refund)
    _set(refund, "source_id", source_id)
    _set(refund, "charge_id", charge_id)
    _set(refund, "created_at", created_at)
    _set(refund, "currency", currency)
    _set(refund, "amount", amount)
    _set(refund, "raw", {})
    return refund


def _open(connection_id: int, kind: str) -> Any:
    """Records of one kind that are neither skipped nor assigned to a document."""
    return and_(
        _R.connection_id == connection_id,
        _R.kind == kind,
        _R.skip_reason.is_(None),
        ~exists().where(_ASSIGNMENTS.c.record_id == _R.id),
    )


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def planned_connection(session: Session, connection_id: int) -> Connection:
    """The connection being planned."""
    return session.get_one(Connection, connection_id)


def record_payload(session: Session, record_id: int) -> dict[str, Any]:
    """The raw payload a stored record was made from."""
    payload = session.scalar(select(SourceRecord.payload).where(SourceRecord.id == record_id))
    return dict(payload or {})


class OpenRecords:
    """The open records of one connection and what earlier plans left, read through the
    caller's driver connection (inside its transaction)."""

    def __init__(self, connection: DriverConnection, connection_id: int, sql: DriverSql) -> None:
        self.connection = connection
        self.connection_id = connection_id
        self.sql = sql

    def days(self, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
        """``[start, end)`` of each business-local day that holds open records, in order."""
        cursor: datetime | None = None
        while True:
            first: datetime | None = None
            for kind in ("charge", "refund"):
                query = select(_R.created_at).where(_open(self.connection_id, kind))
                if cursor is not None:
                    query = query.where(_R.created_at >= cursor)
                found = self.connection.scalar(query.order_by(_R.created_at).limit(1))
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

    def _between(
        self, columns: Sequence[ColumnElement[Any]], kind: str, start: datetime, end: datetime
    ) -> Sequence[Any]:
        return self.connection.execute(
            select(*columns)
            .where(_open(self.connection_id, kind), _R.created_at >= start, _R.created_at < end)
            .order_by(_R.created_at, _R.id)
        ).all()

    def charges(self, start: datetime, end: datetime) -> Sequence[ChargeRow]:
        """The open charges created in ``[start, end)``, in order (:data:`ChargeRow`)."""
        return self._between(_CHARGE_COLUMNS, "charge", start, end)

    def refunds(self, start: datetime, end: datetime) -> Sequence[RefundRow]:
        """The open refunds created in ``[start, end)``, in order (:data:`RefundRow`)."""
        return self._between(_REFUND_COLUMNS, "refund", start, end)

    def charge_states(self, charge_ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """``(record id, source id, amount, currency, skip reason)`` of each stored charge."""
        for chunk in chunks(charge_ids):
            yield from self.connection.execute(
                select(
                    *_as_returned(_R.id, _R.source_id, _R.amount, _R.currency, _R.skip_reason)
                ).where(
                    _R.connection_id == self.connection_id,
                    _R.kind == "charge",
                    _R.source_id.in_(chunk),
                )
            )

    def invoice_and_payment_keys(self, record_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """Per charge record: the keys of the invoice and payment it is assigned to, by kind."""
        keys: dict[int, dict[str, str]] = {}
        assignments, documents = _ASSIGNMENTS.c, _DOCUMENTS.c
        for chunk in chunks(record_ids):
            for record_id, kind, key in self.connection.execute(
                select(assignments.record_id, assignments.kind, documents.key)
                .join_from(_ASSIGNMENTS, _DOCUMENTS, documents.id == assignments.document_id)
                .where(
                    assignments.record_id.in_(chunk),
                    assignments.kind.in_((DocumentKind.INVOICE.value, DocumentKind.PAYMENT.value)),
                )
            ):
                keys.setdefault(record_id, {})[kind] = key
        return keys

    def quarantined_charges(self, charge_ids: Sequence[str]) -> set[str]:
        """Which of ``charge_ids`` sit in quarantine, unresolved."""
        found: set[str] = set()
        quarantine = QuarantinedRecord.__table__.c
        for chunk in chunks(charge_ids):
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

    def refunded_so_far(self, charge_ids: Sequence[str]) -> dict[str, Decimal]:
        """Σ refunds already planned per charge."""
        totals: dict[str, Decimal] = {}
        sql = self.sql
        for chunk in chunks(charge_ids):
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

    def key_taken(self, key: str) -> bool:
        """Whether a document of the connection already has ``key``."""
        found = self.connection.scalar(
            select(_DOCUMENTS.c.id)
            .where(_DOCUMENTS.c.connection_id == self.connection_id, _DOCUMENTS.c.key == key)
            .limit(1)
        )
        return found is not None
