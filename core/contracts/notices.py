"""What a notifier implements, and the notices it is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from core.contracts.context import ConnectionInfo

__all__ = [
    "Notice",
    "NoticeKind",
    "Notifier",
]


# ----------------------------------------------------------------------------- notifications


class NoticeKind(StrEnum):
    CONNECTION_FAILED = "connection_failed"
    CONNECTION_RESTORED = "connection_restored"
    SYNC_FAILED = "sync_failed"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    RECORDS_QUARANTINED = "records_quarantined"
    DOCUMENTS_REJECTED = "documents_rejected"  # the destination refused documents; they wait
    BOOKS_DIFFER = "books_differ"  # a scheduled sync's reconcile found what needs a person
    BOOKS_TIE = "books_tie"  # ... and later found it settled
    TEST = "test"  # `ledgersync notify-test NAME`: a notifier should fail loudly if it cannot send


@dataclass(frozen=True, slots=True)
class Notice:
    """Something an operator should hear about."""

    kind: NoticeKind
    connection: ConnectionInfo
    subject: str
    message: str
    hint: str
    occurred_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """Delivers notices (e-mail, log, chat...). Built with no arguments."""

    name: ClassVar[str]

    def send(self, notice: Notice) -> None: ...
