"""Manual syncs started from the page: each runs in a thread of its own, its progress kept
for the progress view. The sync itself is the engine's, with every rule the CLI's has (once
per hour, one at a time per connection through the database lease)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from core import clock
from core.errors import LedgersyncError
from core.host import Host
from core.reports.history import report_lines
from core.states import SyncTrigger
from core.sync.engine import SyncOptions, sync

__all__ = ["SyncProgress", "SyncRunner"]

log = logging.getLogger(__name__)
PHASES = {"fetch": "Fetching records", "deliver": "Delivering documents"}


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Where one manual sync is: its phase and counts while running, its report when done."""

    connection: str
    started_at: datetime
    phase: str = "Starting"
    done: int = 0
    total: int | None = None
    finished: bool = False
    outcome: str = "running"
    lines: tuple[str, ...] = ()
    refused: str = ""

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, 100 * self.done // self.total)


class SyncRunner:
    """Starts manual syncs in threads and remembers the last one of each connection."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._progress: dict[str, SyncProgress] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def progress(self, name: str) -> SyncProgress | None:
        with self._lock:
            return self._progress.get(name)

    def _update(self, name: str, **changes: object) -> None:
        with self._lock:
            self._progress[name] = replace(self._progress[name], **changes)  # type: ignore[arg-type]

    def start(self, name: str) -> SyncProgress:
        """Start a manual sync of ``name`` unless one started here is still running."""
        with self._lock:
            thread = self._threads.get(name)
            if thread is not None and thread.is_alive():
                return self._progress[name]
            progress = SyncProgress(connection=name, started_at=clock.now())
            self._progress[name] = progress
            thread = threading.Thread(
                target=self._run, args=(name,), name=f"ledgersync-web-sync-{name}", daemon=True
            )
            self._threads[name] = thread
        thread.start()
        return progress

    def wait(self, name: str, timeout: float) -> bool:
        """Wait for the sync of ``name`` started here; True when it has finished."""
        with self._lock:
            thread = self._threads.get(name)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, name: str) -> None:
        def on_progress(phase: str, done: int, total: int | None) -> None:
            self._update(name, phase=PHASES.get(phase, phase), done=done, total=total)

        try:
            report = sync(
                self.host, name, SyncOptions(trigger=SyncTrigger.MANUAL, progress=on_progress)
            )
        except LedgersyncError as error:  # refused (once per hour, disabled, running) or failed
            self._update(name, finished=True, outcome="refused", refused=str(error))
            return
        except Exception as error:  # the page must say so, not keep spinning
            log.exception("manual sync of %s failed", name)
            self._update(name, finished=True, outcome="failed", refused=f"{error}")
            return
        self._update(name, finished=True, outcome=report.outcome, lines=tuple(report_lines(report)))
