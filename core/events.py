"""Events a source pushes (webhooks): what a plugin hands the host once it has verified one.

A source plugin that receives webhooks checks the signature and reads the body; the host
stores each accepted event once, answers at once, and lets it make the next poll happen
sooner. An event never books anything by itself: the sync it triggers reads the source's API.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["EventRefused", "SourceEvent", "body_digest"]


def body_digest(body: bytes) -> str:
    """The SHA-256 of the raw body, hex: what tells two deliveries of one object apart."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One verified event: the object it is about (``charge``), its id, the change
    (``created``/``updated``), the digest of the raw body, and when the object last changed
    (when the body says so)."""

    object: str
    object_id: str
    event_type: str
    digest: str
    payload: dict[str, Any]
    changed_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.object}.{self.event_type}"


class EventRefused(Exception):
    """An event the host must refuse: ``status`` is the HTTP status to answer, ``reason`` one
    line for the log and the sender (never a secret or the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
