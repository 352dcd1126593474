"""What a planning pass reports, the error a bad plan raises, and the keys it may not reuse.

:class:`PlanOutcome` is what :func:`core.sync.planning.plan_connection` returns (and what a
dry run shows); :class:`TakenKeys` is the mapping context's view of the keys the connection
already planned, asked of the store one key at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.documents import Document
from core.errors import LedgersyncError
from core.store.open_records import OpenRecords

__all__ = ["PlanOutcome", "PlanningError", "TakenKeys"]


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


class TakenKeys:
    """Keys already planned for the connection, looked up in the store on demand."""

    def __init__(self, records: OpenRecords, planned_now: set[str]) -> None:
        self._records = records
        self._planned_now = planned_now

    def __contains__(self, key: object) -> bool:
        if key in self._planned_now:
            return True
        return isinstance(key, str) and self._records.key_taken(key)
