"""Stopping a sync by signal: SIGINT (Ctrl-C) and SIGTERM (service managers, ``kill``) end the
run as "interrupted", with its lease released, so the next sync is allowed and finishes it.

SIGINT already raises KeyboardInterrupt in Python; SIGTERM kills the process unless handled,
which would leave the run "running". :func:`interrupts_on_signals` makes SIGTERM raise
:class:`RunInterrupted` (a KeyboardInterrupt) for the length of a ``with`` block, so the sync's
own ``finally`` records the run and releases the lease before the process exits.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["EXIT_INTERRUPTED", "RunInterrupted", "interrupts_on_signals", "signal_name"]

EXIT_INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C (128 + SIGINT)


class RunInterrupted(KeyboardInterrupt):
    """A signal asked this process to stop; the running sync records "interrupted"."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_name(signal_number))
        self.signal_number = signal_number


def signal_name(signal_number: int) -> str:
    try:
        return signal.Signals(signal_number).name
    except ValueError:
        return f"signal {signal_number}"


def _raise(signal_number: int, _frame: FrameType | None) -> None:
    raise RunInterrupted(signal_number)


@contextmanager
def interrupts_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`RunInterrupted` inside the block (main thread only:
    elsewhere Python cannot install handlers, and the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _raise) for number in _SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
