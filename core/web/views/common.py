"""What the host's pages share: the blueprint, the host, plugin pieces, local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app

from core.connections.setup import load_connection
from core.contracts import ConnectionInfo
from core.errors import ConfigurationError
from core.host import Host
from core.pages import PluginPages
from core.web.syncs import SyncRunner

__all__ = ["app_host", "connection_or_404", "local", "pages", "plugin_pages", "runner"]

pages = Blueprint("pages", __name__)


def app_host() -> Host:
    host: Host = current_app.extensions["ledgersync.host"]
    return host


def runner() -> SyncRunner:
    found: SyncRunner = current_app.extensions["ledgersync.syncs"]
    return found


def plugin_pages() -> dict[str, PluginPages]:
    found: dict[str, PluginPages] = current_app.extensions["ledgersync.pages"]
    return found


def connection_or_404(name: str) -> ConnectionInfo:
    try:
        return load_connection(app_host(), name)
    except ConfigurationError:
        abort(404)


def local(moment: datetime | None, zone: ZoneInfo | str, empty: str = "never") -> str:
    """``2026-11-24 02:00 +08`` in the connection's time zone."""
    if moment is None:
        return empty
    shown = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return shown.strftime("%Y-%m-%d %H:%M %Z")


def clock_time(moment: datetime, zone: ZoneInfo | str, now: datetime) -> str:
    """``14:05 +08``, with the date when it is not today in that zone."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    shown = moment.astimezone(tz)
    same_day = shown.date() == now.astimezone(tz).date()
    return shown.strftime("%H:%M %Z" if same_day else "%Y-%m-%d %H:%M %Z")


def split_addresses(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def form_value(form: Any, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None
