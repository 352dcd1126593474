"""The account settings a connection had at each moment, so that a document is judged by the
settings it was written with, not by today's (``verify`` after the fee account changed must not
call every older expense "changed").

Each settings change keeps the settings it replaces, with the instant they stopped applying, in
one cache entry of the connection (a short list: settings change rarely).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.contracts import AccountSettings
from core.store.host_entries import append_to_host_entry, host_entry_value

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["HISTORY_KEY", "keep_replaced", "settings_at"]

HISTORY_KEY = "host:settings_history"


def keep_replaced(
    session: Session, connection_id: int, replaced: dict[str, Any], now: datetime
) -> None:
    """Remember ``replaced`` (a connection's stored settings) as in force until ``now``."""
    kept = {"until": now.isoformat(), "settings": replaced}
    append_to_host_entry(session, connection_id, HISTORY_KEY, kept, now)


def settings_at(
    session: Session, connection_id: int, current: AccountSettings
) -> Callable[[datetime | None], AccountSettings]:
    """A function from an instant to the account settings in force then (``current`` for an
    instant after the last change, or for none)."""
    entry = host_entry_value(session, connection_id, HISTORY_KEY)
    periods: list[tuple[datetime, AccountSettings]] = []
    for kept in entry or []:
        stored = dict(kept["settings"])
        extra = stored.pop("extra", {}) or {}
        periods.append(
            (datetime.fromisoformat(kept["until"]), AccountSettings(**stored, extra=extra))
        )
    periods.sort(key=lambda period: period[0])

    def at(instant: datetime | None) -> AccountSettings:
        if instant is not None:
            for until, settings in periods:
                if instant < until:
                    return settings
        return current

    return at
