"""One connection ready to sync, as an operator would make it: both sides connected to their
stand-ins, the accounts the destination kit made mapped, the mode chosen, sync enabled.

Tests and benchmarks call :func:`connect_pair` (or :func:`settings_from` when they connect a
side their own way) instead of repeating those steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.contracts import AccountSettings, DestinationStandIn, SourceStandIn
from core.host import Host

__all__ = ["connect_pair", "settings_from"]


def settings_from(
    accounts: AccountSettings, *, payouts: bool = False, **more: Any
) -> SettingsChange:
    """The settings change mapping the accounts in ``accounts`` (:meth:`SettingsChange.mapping`)."""
    return SettingsChange.mapping(accounts, payouts=payouts, **more)


def connect_pair(
    host: Host,
    source: SourceStandIn,
    destination: DestinationStandIn,
    name: str = "shop",
    *,
    timezone: str = "Asia/Singapore",
    since: datetime | None = None,
    now: datetime | None = None,
    payouts: bool = False,
    **settings: Any,
) -> AccountSettings:
    """Connect ``name`` to both stand-ins and map the accounts (:func:`settings_from`, with
    ``settings`` such as ``mode=``); with ``since``, enable sync from then. Returns the
    account settings the destination kit made."""
    source.connect(host, name, timezone)
    accounts = destination.connect(host, name)
    change_settings(host, name, settings_from(accounts, payouts=payouts, **settings))
    if since is not None:
        enable(host, name, since=since, now=now or since)
    return accounts
