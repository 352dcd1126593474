"""Planning throughput and memory: the mappers alone, and the planner over a SQLite store.

Synthetic charges (5,000 per business day by default, SGD/USD/JPY, fees, 10% refunded) are
made one day at a time, so the generator never holds more than a day either.

* mapper: ``mapper.plan`` over each day in turn, the way the planner feeds it. Only the
  ``plan`` calls are timed (making the records is not).
* planner: ``store_items`` (one transaction per day, each timed; making the records is not)
  then ``plan_connection`` on a fresh SQLite file.

Every measurement runs in its own fresh process, so the peak resident memory it reports
(``ru_maxrss``) belongs to that measurement alone. Bulk is measured at two sizes with the same
daily volume: its peak should not grow with the number of charges.

    python benchmarks/bench_planning.py                 # 1,000,000 charges; 100,000 via SQLite
    python benchmarks/bench_planning.py --charges 100000 --store-charges 20000
    python benchmarks/bench_planning.py --only planner --store-charges 1000000

Rates are given per wall-clock second and per CPU-second of the measuring process: on a
shared machine the second is the fairer "one core" figure. Prints one line per measurement
and a final JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONE = "Asia/Singapore"
FIRST_DAY = date(2026, 1, 1)
CURRENCIES = (("SGD", 80, Decimal("0.01")), ("USD", 15, Decimal("0.01")), ("JPY", 5, Decimal(1)))
CHANNELS = ("payment_link", "point_of_sale", "shopify", "woocommerce", "online_store")


def synthetic_days(
    charges: int, per_day: int, refund_share: float, seed: int = 7
) -> Iterator[list[Any]]:
    """Lists of records, one local day each: charges, then refunds of some of them."""
    from core.records import Charge, Refund

    zone = ZoneInfo(ZONE)
    rng = random.Random(seed)
    weights = [weight for _code, weight, _unit in CURRENCIES]
    made = 0
    day = FIRST_DAY
    while made < charges:
        count = min(per_day, charges - made)
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        records: list[Any] = []
        refunds: list[Any] = []
        for n in range(made, made + count):
            code, _weight, unit = rng.choices(CURRENCIES, weights)[0]
            amount = Decimal(rng.randint(100, 50_000)) * unit
            fee = (amount * Decimal("0.034") + 50 * unit).quantize(unit)
            created = start + timedelta(seconds=rng.randint(0, 21 * 3600))
            charge_id = f"9f{n:010x}-7c1e-4a2b-8d3f-{n * 7919 % 16**12:012x}"
            records.append(
                Charge(
                    source_id=charge_id,
                    created_at=created,
                    currency=code,
                    amount=amount,
                    fee=fee,
                    fee_currency="SGD" if code == "JPY" else code,
                    channel=rng.choice(CHANNELS),
                )
            )
            if rng.random() < refund_share:
                refunds.append(
                    Refund(
                        source_id=f"re-{charge_id}",
                        charge_id=charge_id,
                        created_at=created + timedelta(minutes=rng.randint(1, 180)),
                        currency=code,
                        amount=(amount / 2).quantize(unit),
                    )
                )
        yield records + refunds
        made += count
        day += timedelta(days=1)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def measure_mapper(mode: str, charges: int, per_day: int, refund_share: float) -> dict[str, Any]:
    from core.contracts import MappingContext
    from core.mapping.bulk import BulkMapper
    from core.mapping.individual import IndividualMapper

    mapper = BulkMapper() if mode == "bulk" else IndividualMapper()
    zone = ZoneInfo(ZONE)
    now = datetime(2100, 1, 1, tzinfo=UTC)  # every day has closed
    elapsed = cpu = 0.0
    documents = refunds = 0
    for records in synthetic_days(charges, per_day, refund_share):
        context = MappingContext("hitpay", zone, now, {}, frozenset())
        started, started_cpu = time.perf_counter(), time.process_time()
        for _document in mapper.plan(records, context):
            documents += 1
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        refunds += sum(1 for record in records if record.kind == "refund")
    return {
        "what": "mapper",
        "mode": mode,
        "charges": charges,
        "refunds": refunds,
        "documents": documents,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "charges_per_second": round(charges / elapsed),
        "charges_per_cpu_second": round(charges / cpu),
        "peak_rss_mb": _peak_rss_mb(),
    }


def measure_planner(mode: str, charges: int, per_day: int, refund_share: float) -> dict[str, Any]:
    from core.mapping.bulk import BulkMapper
    from core.mapping.individual import IndividualMapper
    from core.store.database import open_database
    from core.store.models import Connection, SyncPeriod
    from core.sync.ingest import store_items
    from core.sync.planning import plan_connection

    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        enabled = datetime(2025, 12, 1, tzinfo=UTC)
        with database.session() as session:
            row = Connection(
                name="bench",
                source="hitpay",
                created_at=enabled,
                source_config={},
                source_state={},
                destination_config={},
                settings={},
                notify_emails=[],
                timezone=ZONE,
                mode=mode,
            )
            session.add(row)
            session.flush()
            session.add(SyncPeriod(connection_id=row.id, started_at=enabled))
            connection_id = row.id
        stored = 0
        ingest_seconds = ingest_cpu = 0.0
        for records in synthetic_days(charges, per_day, refund_share):
            # Only storing is timed, not making the records.
            started, started_cpu = time.perf_counter(), time.process_time()
            with database.session() as session:
                counts = store_items(session, connection_id, records, enabled)
            ingest_seconds += time.perf_counter() - started
            ingest_cpu += time.process_time() - started_cpu
            stored += counts.new
        mapper = BulkMapper() if mode == "bulk" else IndividualMapper()
        started, started_cpu = time.perf_counter(), time.process_time()
        with database.session() as session:
            outcome = plan_connection(
                session, connection_id, mapper, datetime(2100, 1, 1, tzinfo=UTC), keep_keys=False
            )
        plan_seconds = time.perf_counter() - started
        plan_cpu = time.process_time() - started_cpu
        database.dispose()
    return {
        "what": "planner",
        "mode": mode,
        "charges": charges,
        "records": stored,
        "documents": outcome.total_documents,
        "ingest_seconds": round(ingest_seconds, 3),
        "ingest_cpu_seconds": round(ingest_cpu, 3),
        "records_ingested_per_second": round(stored / ingest_seconds),
        "records_ingested_per_cpu_second": round(stored / ingest_cpu),
        "plan_seconds": round(plan_seconds, 3),
        "plan_cpu_seconds": round(plan_cpu, 3),
        "charges_per_second": round(charges / plan_seconds),
        "charges_per_cpu_second": round(charges / plan_cpu),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


def _line(result: dict[str, Any]) -> str:
    head = f"{result['what']:7} {result['mode']:10} {result['charges']:>9,} charges"
    if result["what"] == "mapper":
        body = (
            f"+ {result['refunds']:,} refunds -> {result['documents']:,} documents in "
            f"{result['seconds']:.2f} s: {result['charges_per_second']:,} charges/s "
            f"({result['charges_per_cpu_second']:,} per CPU-second)"
        )
    else:
        body = (
            f"(SQLite): ingest {result['records']:,} records in {result['ingest_seconds']:.2f} s "
            f"({result['records_ingested_per_second']:,}/s, "
            f"{result['records_ingested_per_cpu_second']:,} per CPU-second), "
            f"plan {result['documents']:,} "
            f"documents in {result['plan_seconds']:.2f} s: {result['charges_per_second']:,} "
            f"charges/s ({result['charges_per_cpu_second']:,} per CPU-second)"
        )
    return f"{head} {body}; peak RSS {result['peak_rss_mb']} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=1_000_000, help="charges for the mappers")
    parser.add_argument(
        "--store-charges", type=int, default=100_000, help="charges through the SQLite planner"
    )
    parser.add_argument("--per-day", type=int, default=5_000, help="charges per business day")
    parser.add_argument("--refund-share", type=float, default=0.10)
    parser.add_argument(
        "--only", choices=("mapper", "planner"), help="run only the mapper or planner figures"
    )
    options = parser.parse_args(argv)
    shape = (options.per_day, options.refund_share)
    plan: list[tuple[Any, str, int]] = [
        (measure_mapper, "bulk", options.charges),
        (measure_mapper, "bulk", max(1, options.charges // 10)),
        (measure_mapper, "individual", options.charges),
        (measure_planner, "bulk", options.store_charges),
        (measure_planner, "bulk", max(1, options.store_charges // 4)),
        (measure_planner, "individual", options.store_charges),
    ]
    if options.only:
        wanted = measure_mapper if options.only == "mapper" else measure_planner
        plan = [step for step in plan if step[0] is wanted]
    results = []
    for function, mode, charges in plan:
        result = _in_fresh_process(function, mode, charges, *shape)
        print(_line(result), flush=True)
        results.append(result)
    summary = {
        "benchmark": "planning",
        "per_day": options.per_day,
        "refund_share": options.refund_share,
        "results": results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
