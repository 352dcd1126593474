"""Starting a command the way a shell script with ``&`` does: with SIGINT ignored.

A process started in the background from a script inherits SIGINT as ignored; the scheduler,
``serve`` and ``demo --serve`` must still stop on Ctrl-C (and on SIGTERM). Tests that check it
start the command with :func:`started_with_sigint_ignored`.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

__all__ = ["ignore_sigint", "started_with_sigint_ignored"]


def ignore_sigint() -> None:
    """For ``preexec_fn``: the child starts with SIGINT ignored, as under ``cmd &``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def started_with_sigint_ignored(
    args: Sequence[str], env: Mapping[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """The command running with SIGINT ignored, its output piped as text; killed on the way
    out if it is still running."""
    process = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
        preexec_fn=ignore_sigint,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
