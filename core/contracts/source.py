"""What a source (a payment gateway) implements, and the balances it can report."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from core.contracts.context import Health, PluginContext
from core.records import Fetched, Quarantined

__all__ = [
    "FetchWindow",
    "GatewayBalance",
    "Source",
]


# ----------------------------------------------------------------------------- balances


@dataclass(frozen=True, slots=True)
class GatewayBalance:
    """What a gateway holds for the merchant in one currency (for ``reconcile``).

    A source that can tell implements ``balances() -> Mapping[str, GatewayBalance]``."""

    currency: str
    available: Decimal
    pending: Decimal = Decimal(0)
    reserve: Decimal = Decimal(0)
    other: Mapping[str, Decimal] = field(default_factory=dict)  # wallets it does not name

    @property
    def total(self) -> Decimal:
        return self.available + self.pending + self.reserve


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class FetchWindow:
    """Fetch charges created in ``[start, end)`` and refunds of charges since ``refunds_since``."""

    start: datetime
    end: datetime
    refunds_since: datetime


@runtime_checkable
class Source(Protocol):
    """A payment gateway. ``name`` prefixes document keys (``<name>:charge:<id>:invoice``)."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    channels: ClassVar[Mapping[str, str]]  # slug -> label shown to people

    def __init__(self, context: PluginContext) -> None: ...

    def account_id(self) -> str:
        """The business this source reads (one business per destination organization)."""
        ...

    def fetch(
        self, window: FetchWindow, state: MutableMapping[str, Any]
    ) -> Iterator[Fetched | Quarantined]:
        """Yield records in the window (and payouts, for a source that has them). ``state``
        is the source's bookmark: update it in place; the host persists it only after
        everything yielded has been stored."""
        ...

    def health(self) -> Health: ...
