"""What a plugin's stand-in (a faithful fake of its vendor's API) offers the demo and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from core.contracts.context import AccountSettings

__all__ = [
    "DestinationStandIn",
    "SourceStandIn",
    "SourceTotals",
]


# ----------------------------------------------------------------------------- stand-ins


@dataclass(frozen=True, slots=True)
class SourceTotals:
    """What a source's stand-in holds for one currency, to tie the books out against."""

    charges: Decimal
    fees: Decimal
    refunds: Decimal
    payouts: Decimal = Decimal(0)  # paid out of them to the merchant's bank (all booked)


class SourceStandIn(Protocol):
    """A running fake of a source's API, for the demo, conformance suites and tests."""

    name: ClassVar[str]  # the source plugin it stands in for

    def __enter__(self) -> SourceStandIn: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def seed_demo(self, start: datetime, days: int, timezone: str, seed: int) -> None:
        """Fill the fake with a realistic stretch of sales, fees and refunds."""
        ...

    def connect(self, host: Any, connection: str, timezone: str) -> None:
        """Connect ``connection``'s source side to this fake, as an operator would."""
        ...

    def expected_totals(self, since: datetime, until: datetime) -> Mapping[str, SourceTotals]:
        """Per currency: charges, fees and refunds created in ``[since, until)``."""
        ...


class DestinationStandIn(Protocol):
    """A running fake of a destination's API."""

    name: ClassVar[str]  # the destination plugin it stands in for

    def __enter__(self) -> DestinationStandIn: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def connect(self, host: Any, connection: str) -> AccountSettings:
        """Connect ``connection``'s destination side; return ready account settings."""
        ...

    def books(self, connection: str) -> list[Mapping[str, Any]]:
        """Every document the fake holds for the connection's organization."""
        ...

    def clearing_balance(self, connection: str) -> Mapping[str, Decimal]:
        """Per currency, the balance of the clearing (bank) account."""
        ...
