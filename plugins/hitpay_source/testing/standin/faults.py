"""Faults the stand-in injects on demand: throttling, server errors, slow and malformed answers.

Each fault applies to the next ``times`` requests whose path starts with ``path``. A slow
answer waits on an Event (``delay`` seconds at most, forever when None) instead of sleeping,
so a test releases it the moment its client has given up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["MALFORMED_BODIES", "Fault", "FaultQueue"]

MALFORMED_BODIES = {
    "truncated": (
        '{"data":[{"id":"9ced76ac-1638-44df-b702-3f43f6592e2a","amount":70.5',
        "application/json",
    ),
    "html": ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "empty": ("", "application/json"),
    "not_json": ("Service temporarily unavailable", "text/plain"),
}


@dataclass
class Fault:
    """One injected misbehaviour. ``kind`` is ``status``, ``slow`` or ``malformed``."""

    kind: str
    times: int
    path: str = "/v1/"
    status: int = 500
    retry_after: str | None = None
    delay: float | None = None
    body: str = "truncated"
    released: threading.Event = field(default_factory=threading.Event)


class FaultQueue:
    """Faults in the order they were asked for; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.injected = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """The fault this request suffers, if any (one use of it is spent)."""
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and path.startswith(fault.path):
                    fault.times -= 1
                    self.injected += 1
                    return fault
        return None

    def release_slow(self) -> None:
        """Let every held slow answer go now."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == "slow":
                    fault.released.set()

    def clear(self) -> None:
        self.release_slow()
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(fault.times for fault in self._faults)
