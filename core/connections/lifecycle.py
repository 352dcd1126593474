"""A connection's life: enable / disable (sync periods), failure, restore, disconnect.

Its settings are :mod:`core.connections.settings`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.connections.backfill import reopen_skips
from core.connections.settings import connection_summary, missing_settings
from core.errors import ConfigurationError
from core.host import Host
from core.states import ConnectionStatus
from core.store.alert_episodes import resolve_alerts
from core.store.connection_records import forget_credentials
from core.store.repository import CallCounter, connection_info, get_connection, utcnow
from core.store.sync_periods import (
    closed_period_end_after,
    open_period,
    start_period,
    take_back_outside_skips,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store.models import SyncPeriod

__all__ = ["disable", "disconnect", "enable", "open_period"]

log = logging.getLogger(__name__)


def enable(
    host: Host, name: str, *, since: datetime | None = None, now: datetime | None = None
) -> SyncPeriod:
    """Start a sync period at ``since`` (default now). A past ``since`` is a logged back-fill."""
    now = now or utcnow()
    start = since or now
    if start.tzinfo is None:
        raise ConfigurationError(
            f"--since {start.isoformat()} has no time zone.",
            "Add one, e.g. 2026-11-01T00:00+08:00.",
        )
    if start > now:
        raise ConfigurationError("--since is in the future.", "Leave it out to start now.")
    with host.database.session() as session:
        row = get_connection(session, name)
        if row.status == ConnectionStatus.DISCONNECTED:
            raise ConfigurationError(
                f"connection {name!r} is disconnected.", "Reconnect it before enabling sync."
            )
        info = connection_info(row)
        if missing := info.settings.missing():
            raise missing_settings(name, missing)
        if (period := open_period(session, row.id)) is not None:
            if since is not None and start < period.started_at:
                _refuse_overlap(session, row.id, start, period.id)
                reopened = reopen_skips(session, row, start, period.started_at)
                log.info(
                    "connection %s: sync period moved earlier, from %s to %s (back-fill, "
                    "%d skipped charges taken back)",
                    name,
                    period.started_at.isoformat(),
                    start.isoformat(),
                    reopened,
                )
                period.started_at = start
                period.backfill = True
            return period
        _refuse_overlap(session, row.id, start)
        backfill = start < now
        if backfill:
            log.info("connection %s: back-fill enabled from %s", name, start.isoformat())
            # An explicit back-fill takes back the "outside every period" skips it now covers.
            take_back_outside_skips(session, row.id, start)
        period = start_period(session, row.id, start, backfill)
        row.enabled = True
        return period


def _refuse_overlap(
    session: Session, connection_id: int, start: datetime, open_id: int | None = None
) -> None:
    """A period may not start inside an earlier, closed one (``ledgersync backfill`` covers a
    range while disabled instead)."""
    if closed_period_end_after(session, connection_id, start, open_id) is not None:
        raise ConfigurationError(
            f"--since {start.isoformat()} overlaps an earlier sync period.",
            "Choose a start after the last time sync was disabled, or back-fill the days "
            "before with `ledgersync backfill`.",
        )


def disable(host: Host, name: str, *, now: datetime | None = None) -> None:
    """End the open sync period: charges created from now on are skipped for good."""
    now = now or utcnow()
    with host.database.session() as session:
        row = get_connection(session, name)
        if (period := open_period(session, row.id)) is not None:
            period.ended_at = max(now, period.started_at)
        row.enabled = False


def disconnect(host: Host, name: str, *, now: datetime | None = None) -> list[str]:
    """Disable, revoke and forget the credentials, keep the whole history (records,
    documents, runs). Returns one line per side whose plugin offers ``revoke()``."""
    now = now or utcnow()
    disable(host, name, now=now)
    notes = _revoke(host, name)
    with host.database.session() as session:
        row = get_connection(session, name)
        forget_credentials(session, row.id)
        resolve_alerts(session, row.id, None, now)
        row.status = ConnectionStatus.DISCONNECTED
        row.disconnected_at = now
        row.source_account = None
        row.destination_org = None
    return notes


def _revoke(host: Host, name: str) -> list[str]:
    """Ask each side that offers ``revoke()`` to revoke its authorization; never raises."""
    info = connection_summary(host, name)
    if info.status == ConnectionStatus.DISCONNECTED:
        return []
    notes: list[str] = []
    sides: list[tuple[str, Callable[[str], tuple[Any, CallCounter]]]] = [
        ("source", host.open_source)
    ]
    if info.destination:
        sides.append(("destination", host.open_destination))
    for side, opener in sides:
        label = info.source if side == "source" else str(info.destination)
        try:
            plugin, calls = opener(name)
            label = str(getattr(plugin, "display_name", label))
            revoke = getattr(plugin, "revoke", None)
            if revoke is None:
                continue
            try:
                revoke()
            finally:
                with host.database.session() as session:
                    calls.flush(session, info.id)
            notes.append(f"{label}: authorization revoked.")
        except Exception as error:  # disconnecting must work even when the remote side won't
            log.warning("connection %s: could not revoke at %s: %s", name, label, error)
            notes.append(
                f"{label}: could not revoke the authorization ({error}); revoke "
                f"ledgersync's access at {label} yourself."
            )
    return notes
