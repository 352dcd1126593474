"""The tables. Change them only together with a new Alembic revision (a test checks drift)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.states import ConnectionStatus, DocumentState, RunOutcome, SyncMode
from core.store.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _fk(table: str) -> ForeignKey:
    return ForeignKey(f"{table}.id", ondelete="CASCADE")


class Connection(Base):
    """One business at a source linked to one organization at a destination."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("source", "source_account"),
        UniqueConstraint("destination", "destination_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(50))
    source_account: Mapped[str | None] = mapped_column(String(200))
    source_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    destination: Mapped[str | None] = mapped_column(String(50))
    destination_org: Mapped[str | None] = mapped_column(String(200))
    destination_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.NEW)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(20), default=SyncMode.BULK)
    channels: Mapped[list[str] | None] = mapped_column(JSON)  # None: all channels
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    sync_time: Mapped[str] = mapped_column(String(5), default="02:00")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notify_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_manual_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncPeriod(Base):
    """An interval during which sync was enabled; charges outside every period are skipped."""

    __tablename__ = "sync_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backfill: Mapped[bool] = mapped_column(Boolean, default=False)


class SourceRecord(Base):
    """A charge or refund as fetched (raw payload kept), upserted by source id."""

    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("connection_id", "kind", "source_id"),
        Index(None, "connection_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    kind: Mapped[str] = mapped_column(String(10))  # charge | refund
    source_id: Mapped[str] = mapped_column(String(100))
    charge_id: Mapped[str | None] = mapped_column(String(100), index=True)  # refunds
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal | None] = mapped_column(Money)
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    channel: Mapped[str | None] = mapped_column(String(50))
    raw_channel: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    exchange_rate: Mapped[Decimal | None] = mapped_column(Money)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuarantinedRecord(Base):
    """A payload that could not become a record, with the reason; nothing is lost."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("connection_id", "kind", "source_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # raw, as received
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentRow(Base):
    """The outbox: a planned document is never planned again and never lost."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("connection_id", "key"),
        Index(None, "connection_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    doc_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # Document.to_dict()
    state: Mapped[str] = mapped_column(String(20), default=DocumentState.PLANNED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(Integer)


class Assignment(Base):
    """Which record went into which document; one document per record and kind."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("record_id", "kind"),)

    document_id: Mapped[int] = mapped_column(_fk("documents"), primary_key=True)
    record_id: Mapped[int] = mapped_column(_fk("source_records"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))


class Binding(Base):
    """A local key bound to the remote id it was created as (documents, contacts, ...)."""

    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("connection_id", "key"),
        UniqueConstraint("connection_id", "remote_kind", "remote_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    key: Mapped[str] = mapped_column(String(200))
    remote_kind: Mapped[str] = mapped_column(String(30))
    remote_id: Mapped[str] = mapped_column(String(100))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recovered: Mapped[bool] = mapped_column(Boolean, default=False)


class Run(Base):
    """One sync of one connection and what it did."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # a SyncTrigger
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default=RunOutcome.RUNNING)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)


class Alert(Base):
    """A notice episode: opened once, e-mailed once, resolved when the cause is gone."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "connection_id", "kind", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Credential(Base):
    """An encrypted secret (API key, refresh token) of one connection."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("connection_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    name: Mapped[str] = mapped_column(String(100))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CacheEntry(Base):
    """Remote metadata a plugin caches (accounts, items, currencies, contacts)."""

    __tablename__ = "cache_entries"
    __table_args__ = (UniqueConstraint("connection_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiUsage(Base):
    """API calls per connection, side and UTC day."""

    __tablename__ = "api_usage"

    connection_id: Mapped[int] = mapped_column(_fk("connections"), primary_key=True)
    side: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class SourceEventRow(Base):
    """A webhook event a source pushed, stored once (object, id, change, body digest); pending
    until an event sync that started after it has read the source's API."""

    __tablename__ = "source_events"
    __table_args__ = (
        UniqueConstraint(
            "connection_id",
            "object",
            "object_id",
            "event_type",
            "digest",
            name="uq_source_events_once",
        ),
        Index(None, "connection_id", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(_fk("connections"))
    object: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(30))
    digest: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(Integer)


class Lease(Base):
    """Who may sync a connection right now; taken over when expired or its holder died."""

    __tablename__ = "leases"

    connection_id: Mapped[int] = mapped_column(_fk("connections"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
