"""What a delivery pass reports (:class:`DeliveryOutcome`) and the callbacks it takes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from core.errors import TransientError

__all__ = ["Budget", "Clock", "DeliveryOutcome", "FailedDocument", "ProgressCallback"]

ProgressCallback = Callable[[int, int | None], None]  # (documents done, documents planned)
# Called with the calls a unit of documents needs before its first one is sent; raises
# DailyLimitReached when they do not fit in what is left of today's share.
Budget = Callable[[int], None]
Clock = Callable[[], datetime]


class FailedDocument(NamedTuple):
    """A document the destination refused, and why (the destination's words)."""

    key: str
    reason: str


@dataclass(slots=True)
class DeliveryOutcome:
    """What one delivery pass did.

    ``delivered`` counts documents per kind, recovered ones included (``recovered`` says how
    many were found already created by an earlier attempt); ``adopted`` counts per kind the
    documents found in the books under their key when looking first (not in ``delivered``).
    ``pending`` is how many documents are still planned afterwards; ``waiting`` of those are
    held back by a dependency that failed. ``stopped_by`` is the transient error that ended
    the pass early, if any.
    """

    delivered: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    adopted: Counter[str] = field(default_factory=Counter)
    failed: list[FailedDocument] = field(default_factory=list)
    pending: int = 0
    waiting: int = 0
    stopped_by: TransientError | None = None

    @property
    def total_delivered(self) -> int:
        return sum(self.delivered.values())

    @property
    def complete(self) -> bool:
        """Nothing left to send: no pending document and no early stop."""
        return self.pending == 0 and self.stopped_by is None
