"""What a sync is asked to do (:class:`SyncOptions`) and what it did (:class:`SyncReport`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.contracts import RunSummary
from core.errors import SyncRefused
from core.states import RunOutcome, SyncTrigger
from core.sync.forecast import Forecast

__all__ = ["AlreadySynced", "Progress", "SyncOptions", "SyncReport"]

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class SyncOptions:
    trigger: SyncTrigger = SyncTrigger.MANUAL
    force: bool = False
    dry_run: bool = False
    now: datetime | None = None
    progress: Progress | None = None
    # Workers pass the due time they answer: under the lease, a connection that has synced
    # since then is not synced again (AlreadySynced), so a duplicate message is a no-op.
    unless_synced_since: datetime | None = None


@dataclass(slots=True)
class SyncReport:
    """What one run did; also stored as the run record."""

    connection: str
    run_id: int | None
    outcome: RunOutcome = RunOutcome.RUNNING
    fetched: int = 0
    quarantined: int = 0
    documents_planned: Counter[str] = field(default_factory=Counter)
    documents_delivered: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    adopted: Counter[str] = field(default_factory=Counter)
    pending: int = 0
    failed_documents: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_channels: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    error: str = ""
    planned_documents: list[Any] = field(default_factory=list)  # dry run only
    held_payouts: dict[str, str] = field(default_factory=dict)  # payout id -> why
    forecast: Forecast | None = None  # dry run only: the destination calls the work needs

    def summary(self) -> RunSummary:
        return RunSummary(
            outcome=self.outcome,
            documents=dict(self.documents_delivered),
            api_calls=self.api_calls,
            quarantined=self.quarantined,
            skipped=dict(self.skipped),
            error=self.error,
        )


class AlreadySynced(SyncRefused):
    """The connection has synced since the due time this sync was asked for."""
