"""Real Celery processes for scale tests: workers and beat as subprocesses on a Redis broker.

Every cluster gets its own queue and Redis key prefix (so runs never see each other's
messages) and deletes its keys when it stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import redis

from core import clock

__all__ = ["Cluster", "redis_answers", "wait_for"]

BIN = Path(sys.executable).parent
T = TypeVar("T")


def redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        answered = bool(client.ping())
        client.close()
        return answered
    except redis.RedisError:
        return False


def wait_for(
    check: Callable[[], T | None],
    what: str,
    *,
    within: float,
    explain: Callable[[], str] = lambda: "",
) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what}\n{explain()}")
        time.sleep(0.05)  # poll interval of a bounded wait on observable state


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


class Cluster:
    """Workers and beat sharing one broker, one store and one queue."""

    def __init__(self, folder: Path, redis_url: str, env: Mapping[str, str]) -> None:
        self.run = uuid.uuid4().hex[:10]
        self.folder = folder
        self.redis_url = redis_url
        self.prefix = f"ledgersync-test-{self.run}:"
        self.queue = f"ledgersync-test-{self.run}"
        self.env = {
            **os.environ,
            **env,
            "LEDGERSYNC_BROKER_URL": redis_url,
            "LEDGERSYNC_QUEUE": self.queue,
            "LEDGERSYNC_KEY_PREFIX": self.prefix,
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[Process] = []
        self.redis = redis.Redis.from_url(redis_url)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start(self, name: str, argv: list[str]) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def worker(self, name: str) -> Process:
        """``ledgersync worker`` with one sync at a time in its own process (``--pool solo``),
        so killing the worker's pid kills the sync it runs."""
        node = f"{name}-{self.run}@%h"
        argv = [str(BIN / "ledgersync"), "worker", "--pool", "solo", "-n", node, "-l", "INFO"]
        return self._start(name, argv)

    def beat(self) -> Process:
        schedule = self.folder / "beat-schedule"
        argv = [sys.executable, "-m", "celery", "-A", "core.scheduling.workers.app", "beat"]
        return self._start("beat", [*argv, "-s", str(schedule), "-l", "INFO"])

    def kill(self, pid: int) -> datetime:
        """``kill -9`` one of our processes and reap it; returns when it was certainly dead."""
        process = next(p for p in self.processes if p.pid == pid)
        os.kill(pid, signal.SIGKILL)
        process.popen.wait(timeout=10)
        return clock.now()

    def live_pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.popen.poll() is None]

    def pending_syncs(self) -> list[str]:
        """Connection names of sync messages queued or delivered but not acknowledged."""
        raw = self.redis.lrange(self.prefix + self.queue, 0, -1)
        raw += [json.loads(v)[0] for v in self.redis.hvals(self.prefix + "unacked")]
        names = []
        for message in raw:
            body: dict[str, Any] = json.loads(message) if isinstance(message, bytes) else message
            if body.get("headers", {}).get("task") == "ledgersync.sync_connection":
                names.append(str(body["headers"].get("argsrepr", "")))
        return names

    def logs(self, lines: int = 30) -> str:
        parts = []
        for process in self.processes:
            text = process.log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {process.name} (pid {process.pid}) ---\n" + "\n".join(text))
        return "\n".join(parts)

    def _keys(self) -> Iterator[bytes]:
        yield from self.redis.scan_iter(match=f"{self.prefix}*")
        yield from self.redis.scan_iter(match=f"*{self.run}*")

    def stop(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in self.processes:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        keys = set(self._keys())
        if keys:
            self.redis.delete(*keys)
        self.redis.close()
