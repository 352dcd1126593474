"""Login throttling: too many failed logins from one address, or from all, wait a while."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from core import clock

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """At most ``per_address`` failed logins per address and ``overall`` in all per ``window``;
    beyond that, logins are refused (even with the right password) until the window has
    passed the oldest failure. In memory: a restart forgets, which an attacker cannot cause."""

    def __init__(
        self,
        per_address: int = 5,
        overall: int = 50,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self.per_address = per_address
        self.overall = overall
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._all: deque[datetime] = deque()
        self._lock = threading.Lock()

    def _trim(self, failures: deque[datetime], now: datetime) -> None:
        while failures and now - failures[0] >= self.window:
            failures.popleft()

    def blocked_until(self, address: str) -> datetime | None:
        """When ``address`` may try again, or None when it may now."""
        now = clock.now()
        with self._lock:
            mine = self._failures.get(address, deque())
            self._trim(mine, now)
            self._trim(self._all, now)
            waits = []
            if len(mine) >= self.per_address:
                waits.append(mine[-self.per_address] + self.window)
            if len(self._all) >= self.overall:
                waits.append(self._all[-self.overall] + self.window)
            return max(waits) if waits else None

    def failed(self, address: str) -> None:
        now = clock.now()
        with self._lock:
            self._failures.setdefault(address, deque()).append(now)
            self._all.append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
