"""What a mapper implements: records in, documents out."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol
from zoneinfo import ZoneInfo

from core.documents import Document
from core.records import Record

__all__ = [
    "ChargeDocuments",
    "Mapper",
    "MappingContext",
]


@dataclass(frozen=True, slots=True)
class ChargeDocuments:
    """Where an already-planned charge went: its invoice and payment keys."""

    invoice_key: str
    payment_key: str


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Everything a mapper may look at besides the records. It reads no clock of its own."""

    source: str
    timezone: ZoneInfo
    now: datetime
    charge_documents: Mapping[str, ChargeDocuments]
    taken_keys: Container[str]
    # The connection's grouping options (``fees``, ``payments``: ``daily`` or ``charge``);
    # a mapper ignores those it has no use for (Bulk is daily already).
    options: Mapping[str, str] = field(default_factory=dict)


class Mapper(Protocol):
    """Turns eligible, unplanned records into documents. Pure: no I/O, no clock."""

    name: ClassVar[str]
    description: ClassVar[str]

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterable[Document]:
        """Documents for the records it can plan now; records it leaves out stay unplanned."""
        ...
