"""The journal's configuration: where it is and which format it is in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.api import ConfigurationError
from plugins.file_journal.formats import FORMATS, JournalFormat, format_named

__all__ = ["JournalConfig"]


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """``path`` (absolute) and ``format`` (``csv`` or ``beancount``)."""

    path: Path
    format: JournalFormat

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> JournalConfig:
        """Read the connection's destination config, with an error saying what is missing."""
        raw_path = config.get("path")
        if not isinstance(raw_path, str | Path) or not str(raw_path).strip():
            raise ConfigurationError(
                "the journal has no path.",
                "Attach it with `ledgersync journal attach NAME --path FILE`.",
            )
        path = Path(raw_path).expanduser().absolute()
        name = config.get("format") or cls.format_for_suffix(path)
        return cls(path=path, format=format_named(str(name)))

    @staticmethod
    def format_for_suffix(path: Path) -> str:
        for name, journal_format in FORMATS.items():
            if path.suffix.lower() in journal_format.suffixes:
                return name
        raise ConfigurationError(
            f"cannot tell the journal format of {path.name!r} from its suffix.",
            "Give the format: csv or beancount.",
        )
