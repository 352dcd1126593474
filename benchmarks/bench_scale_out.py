"""Scale-out: 200 connections synced by 1 and then by 2 Celery workers, with API latency.

Each run gets fresh businesses (one sale each, on HitPay and Zoho Books stand-ins that answer
every API call ``--latency`` seconds late, like a real vendor), a fresh store (PostgreSQL when
a server answers, else a SQLite file), a Redis queue of its own and N ``ledgersync worker
--pool solo`` processes. Once the workers are ready, one job per connection is enqueued (as
beat would) and the clock runs until every connection has a succeeded run.

speedup = (connections per second with 2 workers) / (with 1). Aim: >= 1.8.

    python benchmarks/bench_scale_out.py
    python benchmarks/bench_scale_out.py --connections 50 --latency 0.02
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import common

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def store(folder: Path) -> Iterator[str]:
    """A fresh PostgreSQL database when a server answers, else a SQLite file."""
    from sqlalchemy import create_engine, text
    from support.databases import POSTGRES_URL_VARIABLE, throwaway_postgres

    server = os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_SERVER
    try:
        engine = create_engine(server, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        print("(no PostgreSQL answers: the workers share a SQLite file)")
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    os.environ[POSTGRES_URL_VARIABLE] = server
    with throwaway_postgres() as url:
        yield url


def succeeded(host: Any) -> int:
    from sqlalchemy import distinct, func, select

    from core.store.models import Run

    with host.database.session() as session:
        return (
            session.scalar(
                select(func.count(distinct(Run.connection_id))).where(Run.outcome == "succeeded")
            )
            or 0
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(workers: int, connections: int, latency: float, redis_url: str) -> dict[str, Any]:
    from scale.cluster import Cluster, wait_for
    from scale.fleet import Fleet, yesterday_noon

    from core.host import Host
    from core.scheduling.workers.app import SYNC_TASK, create_app
    from core.scheduling.workers.dispatch import FIRST_SYNC
    from core.scheduling.workers.settings import WorkerSettings

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, store(Path(tmp)) as url:
        host = Host(url)
        with Fleet(connections, prefix=f"w{workers}-", latency=latency) as fleet:
            fleet.seed(yesterday_noon(now), charges=1, refunds=0)
            fleet.connect(host, since=now - timedelta(days=2), now=now)
            with Cluster(Path(tmp), redis_url, {"LEDGERSYNC_DB": url}) as cluster:
                started = [cluster.worker(f"w{n}") for n in range(workers)]
                wait_for(
                    lambda: all(" ready." in p.log.read_text(errors="replace") for p in started),
                    "workers ready",
                    within=60,
                    explain=cluster.logs,
                )
                producer = create_app(WorkerSettings.from_environment(cluster.env))
                worker_cpu = sum(cpu_seconds(p.pid) for p in started)
                own_cpu = time.process_time()
                began = time.perf_counter()
                for name in fleet.names:
                    producer.send_task(SYNC_TASK, args=(name, FIRST_SYNC.isoformat()))
                wait_for(
                    lambda: succeeded(host) == connections,
                    "every connection synced",
                    within=900,
                    explain=cluster.logs,
                )
                elapsed = time.perf_counter() - began
                worker_cpu = sum(cpu_seconds(p.pid) for p in started) - worker_cpu
                own_cpu = time.process_time() - own_cpu
        host.close()
    return {
        "workers": workers,
        "connections": connections,
        "seconds": round(elapsed, 2),
        "per_second": round(connections / elapsed, 2),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "standins_cpu_seconds": round(own_cpu, 1),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API answer")
    parser.add_argument(
        "--redis", default=os.environ.get("LEDGERSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    common.prepare()
    results = []
    for workers in (1, 2):
        result = run(workers, args.connections, args.latency, args.redis)
        results.append(result)
        print(
            f"{workers} worker(s): {result['connections']} connections in {result['seconds']} s "
            f"= {result['per_second']} per second; CPU: workers {result['worker_cpu_seconds']} s, "
            f"stand-ins {result['standins_cpu_seconds']} s; load average "
            f"{result['load_average']:.1f}",
            flush=True,
        )
    speedup = results[1]["per_second"] / results[0]["per_second"]
    print(f"speedup with 2 workers: {speedup:.2f}x (aim >= 1.8x)")
    common.emit(
        "scale_out",
        {
            "latency_seconds": args.latency,
            "results": results,
            "speedup": round(speedup, 3),
            "aim_speedup_at_least": 1.8,
        },
    )


if __name__ == "__main__":
    main()
