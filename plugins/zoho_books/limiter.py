"""A client-side limit on requests per minute per organization (a sliding-window log)."""

from __future__ import annotations

import threading
from collections import deque

from plugins.zoho_books.clock import Clock

__all__ = ["SlidingWindowLimiter"]

EPSILON = 1e-6


class SlidingWindowLimiter:
    """At most ``limit`` acquisitions in any ``window`` seconds; ``acquire`` waits (on the
    injected clock) until one is free. Thread-safe."""

    def __init__(self, limit: int, clock: Clock, window: float = 60.0) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least one request per window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._granted: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def _expire(self, now: float) -> None:
        # The tolerance keeps float rounding from leaving a wait too small to move the clock.
        while self._granted and now - self._granted[0] >= self.window - EPSILON:
            self._granted.popleft()

    def delay(self) -> float:
        """Seconds until the next acquisition would be granted (0 when it would be now)."""
        with self._lock:
            now = self._clock.monotonic()
            self._expire(now)
            if len(self._granted) < self.limit:
                return 0.0
            return self._granted[0] + self.window - now

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock.monotonic()
                self._expire(now)
                if len(self._granted) < self.limit:
                    self._granted.append(now)
                    return
                wait = self._granted[0] + self.window - now
            self.waited += wait
            self._clock.sleep(wait)
