"""The status values the host stores and shows, one `StrEnum` each.

Each member equals the string the store holds (``ConnectionStatus.ACTIVE == "active"``), so rows
written before these types existed, JSON output and plugins comparing with plain strings keep
working unchanged. Use the members in new code; a test keeps the set of values in step with
what the code writes.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ConnectionStatus", "DocumentState", "RunOutcome", "SyncMode", "SyncTrigger"]


class ConnectionStatus(StrEnum):
    """Where a connection stands (``connections.status``)."""

    NEW = "new"  # not yet linked to a destination organization
    ACTIVE = "active"
    FAILED = "failed"  # a credential or organization stopped working: reconnect
    DISCONNECTED = "disconnected"


class DocumentState(StrEnum):
    """Where a planned document stands (``documents.state``)."""

    PLANNED = "planned"  # waiting to be delivered
    DELIVERED = "delivered"  # bound to its remote id
    FAILED = "failed"  # refused for good: quarantined until retried
    DELETING = "deleting"  # a rollback is taking it back from the destination
    DELETED = "deleted"  # taken back; removed once its whole group is


class RunOutcome(StrEnum):
    """How one sync ended (``runs.outcome``)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    INCOMPLETE = "incomplete"  # stopped with documents still planned
    FAILED = "failed"
    PAUSED = "paused"  # the destination's quota for the day is spent
    INTERRUPTED = "interrupted"  # stopped by a signal, or its process is gone


class SyncTrigger(StrEnum):
    """What started a sync (``runs.trigger``)."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    WORKER = "worker"
    EVENT = "event"
    REPAIR = "repair"  # `ledgersync verify --repair` planning documents again
    ROLLBACK = "rollback"  # `ledgersync rollback` / `repost` taking documents back


class SyncMode(StrEnum):
    """How charges become documents (``connections.mode``, ``documents.mode``)."""

    BULK = "bulk"  # one set of documents per day and currency
    INDIVIDUAL = "individual"  # documents per charge
