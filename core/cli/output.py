"""Small output helpers shared by the commands: JSON, safe text, local times."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, tzinfo
from typing import Any

import click

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: object) -> str:
    """Text with terminal control characters (escape sequences) made visible, not executed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _plain(value: Any) -> str:
    """JSON for what json cannot write: ISO 8601 for dates and times, exact text for Decimal."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=_plain))


def local(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
