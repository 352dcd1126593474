"""Where the store and its secret key live by default: the platform's data directory.

On Linux that is ``$XDG_DATA_HOME/ledgersync`` (``~/.local/share/ledgersync``), on macOS
``~/Library/Application Support/ledgersync``, on Windows the user's AppData folder. Releases
before this one kept the store in click's config folder; a store found only there is used
where it is, so an upgrade never swaps the books for an empty store.
"""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

__all__ = ["APP_NAME", "STORE_FILE", "data_dir", "default_store_path"]

APP_NAME = "ledgersync"
STORE_FILE = "ledgersync.sqlite"


def data_dir() -> Path:
    """The user's data directory for ledgersync (not created here)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _legacy_dir() -> Path:
    return Path(click.get_app_dir(APP_NAME))


def default_store_path() -> Path:
    """The default SQLite store: in the data directory, or where an older release put it."""
    current = data_dir() / STORE_FILE
    legacy = _legacy_dir() / STORE_FILE
    if not current.exists() and legacy.exists():
        return legacy
    return current
