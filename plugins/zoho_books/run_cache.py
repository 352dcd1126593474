"""The store cache read through memory for one run.

The host builds the destination for each run (``Host.open_destination``), and with it this
layer, so what the run has read or written once is served from memory after that: the
organization's currencies and its customers are read from the store once a run, not once
per document. Every write goes to the store first and then to memory, so the store always
holds what the run wrote (the next run, or another process, reads it there).

Values are shared, not copied: a caller treats what ``get`` returns as read-only and ``set``s
a new value to change it.
"""

from __future__ import annotations

from typing import Any

from core.api import KeyValueCache

__all__ = ["RunCache"]


class RunCache:
    """A :class:`KeyValueCache` in front of the store's, kept in memory for one run."""

    def __init__(self, store: KeyValueCache) -> None:
        self._store = store
        self._memory: dict[str, Any] = {}

    def get(self, name: str) -> Any | None:
        try:
            return self._memory[name]
        except KeyError:
            value = self._memory[name] = self._store.get(name)
            return value

    def set(self, name: str, value: Any) -> None:
        self._store.set(name, value)
        self._memory[name] = value

    def __repr__(self) -> str:
        return f"RunCache({self._store!r}, {len(self._memory)} read)"
