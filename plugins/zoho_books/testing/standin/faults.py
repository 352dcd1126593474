"""Fault injection: fail, time out, or commit and then drop chosen requests.

A fault targets the k-th request the API server receives (1-based), or the next requests
matching a method and a path pattern. Kinds:
- ``error``: answer HTTP 500 (code 1000) without doing anything;
- ``timeout``: hold the request without doing anything until the client gives up;
- ``drop``: do the request (commit it), then close the connection without an answer;
- ``hold``: keep the request in flight until :meth:`Faults.release`, then do it normally.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

__all__ = ["Fault", "Faults"]


@dataclass
class Fault:
    kind: str
    at: int | None = None
    method: str | None = None
    path: str | None = None
    times: int = 1

    def matches(self, number: int, method: str, path: str) -> bool:
        if self.at is not None and self.at != number:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[Fault] = []
        self.released = threading.Event()
        self.holding = threading.Semaphore(0)
        self.fired: list[tuple[int, str, str, str]] = []

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._planned.append(fault)
        return fault

    def fail(
        self, at: int | None = None, *, method: str | None = None, path: str | None = None,
        times: int = 1,
    ) -> Fault:  # fmt: skip
        return self._add(Fault("error", at, method, path, times))

    def timeout(
        self, at: int | None = None, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        return self._add(Fault("timeout", at, method, path))

    def drop_after_commit(
        self, at: int | None = None, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        return self._add(Fault("drop", at, method, path))

    def throttle(
        self, at: int | None = None, *, code: int | None = None, method: str | None = None,
        path: str | None = None, times: int = 1,
    ) -> Fault:  # fmt: skip
        """HTTP 429 with ``code`` (None: an empty body), before the request is admitted:
        zoho.rate_limit.undocumented_429 (code 43, or no code at all)."""
        kind = f"throttle:{'' if code is None else code}"
        return self._add(Fault(kind, at, method, path, times))

    def hold(
        self, at: int | None = None, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        self.released.clear()
        return self._add(Fault("hold", at, method, path))

    def release(self) -> None:
        self.released.set()

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
        self.released.set()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._planned)

    def take(self, number: int, method: str, path: str) -> str | None:
        """The fault kind for this request, if one is planned (and use it up)."""
        with self._lock:
            for fault in self._planned:
                if fault.matches(number, method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._planned.remove(fault)
                    self.fired.append((number, method, path, fault.kind))
                    return fault.kind
        return None
