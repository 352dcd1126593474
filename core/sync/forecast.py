"""The dry run's forecast: how many destination calls the planned work needs, and how long.

The destination tells what one document of each kind costs (``CallCosts``); the forecast
counts the documents a real sync would deliver now (those planned in earlier runs and still
waiting, plus those this run would plan) and says how long they take at the per-minute limit
and whether they fit in what is left of today's share of the daily quota. It writes nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.connections.quota import quota_status
from core.contracts import CallCosts, ClaimKeeper
from core.documents import Document
from core.host import Host
from core.store.repository import connection_info, get_connection
from core.store.waiting_documents import waiting_currencies, waiting_documents_by_kind
from core.sync.claims import claim_calls

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Forecast", "document_costs", "forecast", "forecast_for", "waiting_documents"]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Destination calls per document kind, the minutes they take, and today's room."""

    calls: Counter[str] = field(default_factory=Counter)  # per kind; "setup" for metadata
    documents: Counter[str] = field(default_factory=Counter)
    per_minute: int = 0
    remaining_today: int | None = None  # of ledgersync's share; None: not known yet
    resets_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def minutes(self) -> int:
        return math.ceil(self.total / self.per_minute) if self.per_minute > 0 else 0

    @property
    def fits_today(self) -> bool | None:
        return None if self.remaining_today is None else self.total <= self.remaining_today

    def line(self) -> str:
        """``1,240 calls: about 13 minutes; fits today's remaining 3,100``."""
        text = f"{self.total:,} call{'s' if self.total != 1 else ''}"
        if self.total:
            text += f": about {self.minutes:,} minute{'s' if self.minutes != 1 else ''}"
            text += f" at {self.per_minute:,} a minute"
        if self.remaining_today is None:
            return text + "; today's quota is not known yet (the next sync reads it)"
        if self.fits_today:
            return text + f"; fits today's remaining {self.remaining_today:,}"
        reset = ""
        if self.resets_at is not None:
            reset = f" (the quota resets at {self.resets_at:%Y-%m-%d %H:%M} UTC)"
        return (
            text + f"; more than today's remaining {self.remaining_today:,}: about "
            f"{self.total - self.remaining_today:,} calls wait for the next day{reset}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.total,
            "calls_per_kind": dict(self.calls),
            "documents_per_kind": dict(self.documents),
            "per_minute": self.per_minute,
            "minutes": self.minutes,
            "remaining_today": self.remaining_today,
            "fits_today": self.fits_today,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
        }


def waiting_documents(session: Session, connection_id: int) -> tuple[Counter[str], Counter[str]]:
    """Documents planned in earlier runs and not delivered yet, per kind; and of those, the
    ones an earlier attempt touched (each needs a look-up before it is sent again)."""
    return waiting_documents_by_kind(session, connection_id)


def forecast(
    costs: CallCosts,
    new_kinds: Iterable[str],
    waiting: Counter[str],
    attempted: Counter[str],
    *,
    remaining_today: int | None = None,
    resets_at: datetime | None = None,
) -> Forecast:
    """The calls to deliver ``waiting`` documents and the newly planned ``new_kinds``."""
    documents = Counter(waiting)
    documents.update(new_kinds)
    calls: Counter[str] = Counter()
    for kind, count in documents.items():
        calls[kind] = count * costs.calls(kind) + attempted.get(kind, 0) * costs.recheck
    if costs.setup and documents:
        calls["setup"] = costs.setup
    return Forecast(
        calls=calls,
        documents=documents,
        per_minute=costs.per_minute,
        remaining_today=remaining_today,
        resets_at=resets_at,
    )


def forecast_for(
    host: Host, name: str, new_documents: Iterable[Document], now: datetime
) -> Forecast | None:
    """The forecast for connection ``name`` when the documents ``new_documents`` are planned
    now, against what is left of ledgersync's share of today's quota; None when its
    destination does not say what its calls cost."""
    with host.database.session() as session:
        row = get_connection(session, name)
        if not row.destination:
            return None
        cls = host.plugins.destination(row.destination)
        call_costs = getattr(cls, "call_costs", None)
        if call_costs is None:
            return None
        waiting, attempted = waiting_documents(session, row.id)
        currencies = waiting_currencies(session, row.id)
        connection_id = row.id
        config = dict(row.destination_config)
        quota = quota_status(session, row.id, connection_info(row).settings.extra, now)
    documents = list(new_documents)
    currencies.update(document.currency for document in documents)
    costs: CallCosts = call_costs(config, host.cache(connection_id), sorted(currencies))
    kinds = [str(document.kind) for document in documents]
    result = forecast(
        costs,
        kinds,
        waiting,
        attempted,
        remaining_today=quota.share_left if quota else None,
        resets_at=quota.resets_at if quota else None,
    )
    if isinstance(cls, type) and issubclass(cls, ClaimKeeper):  # read every run, see claims.py
        result.calls["claim"] = claim_calls(host.database, connection_id, now)
    return result


def document_costs(host: Host, name: str) -> Callable[[Document], int] | None:
    """What delivering one document costs in calls of connection ``name``'s destination at
    steady state (for pacing); None when the destination does not say."""
    with host.database.session() as session:
        row = get_connection(session, name)
        if not row.destination:
            return None
        call_costs = getattr(host.plugins.destination(row.destination), "call_costs", None)
        if call_costs is None:
            return None
        costs: CallCosts = call_costs(dict(row.destination_config), host.cache(row.id), [])

    def cost(document: Document) -> int:
        return costs.calls(str(document.kind))

    return cost
