"""API calls per charge and per bulk day in each mode, against the minimum the mode needs,
and the metadata calls of a warm run (aim: 0).

A HitPay stand-in seeded with two weeks of realistic sales (several currencies and payment
methods, some refunded, some failed) and a Zoho Books stand-in; a cold first sync of the two
weeks, then one more day arrives and a warm second sync runs. The stand-ins' own request logs
are counted, by kind:

* writes: the documents themselves (invoice, mark sent, payment, expense, credit note, refund);
* reads: what a write needs to look up (the credit note and invoice of a refund);
* metadata: organization settings, currencies, contacts (cached after the first run);
* token: OAuth refreshes; source: HitPay list pages and single charges.

The minimum a mode needs is one write per planned document plus "mark sent" per invoice
(Zoho records payments only against sent invoices); at the source, one page per 100 charges,
and, as HitPay has no refunds list, the refunded charges listed again and each read once.

    python benchmarks/bench_api_calls.py
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import common

METADATA = ("/settings", "/contacts", "/chartofaccounts", "/items", "/organizations", "/taxes")
DAYS, PER_DAY, PAGE = 14, 12, 100


def kind_of(method: str, path: str) -> str:
    if path.startswith(METADATA):
        return "metadata"
    return "writes" if method == "POST" else "reads"


def count(zoho: Any, source: Any) -> Counter[str]:
    counts: Counter[str] = Counter(kind_of(r.method, r.path) for r in zoho.requests)
    counts["token"] = sum(1 for r in zoho.accounts_requests if r[1].endswith("/token"))
    counts["source"] = len(source.requests)
    return counts


def documents(host: Any) -> Counter[str]:
    from sqlalchemy import func, select

    from core.store.models import DocumentRow

    with host.database.session() as session:
        rows = session.execute(select(DocumentRow.kind, func.count()).group_by(DocumentRow.kind))
        return Counter({kind: n for kind, n in rows})


def bulk_days(host: Any) -> int:
    from sqlalchemy import distinct, func, select

    from core.store.models import DocumentRow

    with host.database.session() as session:
        return (
            session.scalar(
                select(func.count(distinct(DocumentRow.doc_date))).where(
                    DocumentRow.kind == "invoice"
                )
            )
            or 0
        )


def run_mode(mode: str, fees: str | None = None, payments: str | None = None) -> dict[str, Any]:
    from support.pairs import connect_pair

    from core.host import Host
    from core.sync.engine import SyncOptions, sync
    from plugins.hitpay_source.testing.kit import HitPayStandInKit
    from plugins.zoho_books.testing.kit import ZohoBooksStandInKit

    now = datetime.now(UTC)
    start = (now - timedelta(days=DAYS + 3)).replace(hour=0, minute=0, second=0, microsecond=0)
    with (
        tempfile.TemporaryDirectory() as folder,
        HitPayStandInKit() as source,
        ZohoBooksStandInKit() as destination,
    ):
        seeded = source.standin.seed(7, start.date(), DAYS, "Asia/Singapore", per_day=PER_DAY)
        host = Host(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        # a local stand-in: no other app shares its daily quota
        connect_pair(
            host,
            source,
            destination,
            since=start - timedelta(days=1),
            now=now,
            mode=mode,
            fees=fees,
            payments=payments,
            api_share=100,
        )
        zoho = destination.standin
        zoho.requests.clear()
        zoho.accounts_requests.clear()
        cold = sync(host, "shop", SyncOptions(trigger="manual", now=now))
        assert cold.outcome == "succeeded", cold.error
        cold_calls = count(zoho, source.standin)
        cold_documents = documents(host)
        days = bulk_days(host)

        # One more (closed) day arrives; the warm run knows the organization already.
        warm_day = (now - timedelta(days=2)).date()  # closed, inside the re-read overlap
        source.standin.seed(8, warm_day, 1, "Asia/Singapore", per_day=PER_DAY)
        zoho.requests.clear()
        zoho.accounts_requests.clear()
        source.standin.clear_requests()
        warm = sync(host, "shop", SyncOptions(trigger="manual", force=True, now=now))
        assert warm.outcome == "succeeded", warm.error
        warm_calls = count(zoho, source.standin)
        warm_documents = documents(host) - cold_documents
        host.close()
    sales = ("succeeded", "succeeded_manually", "partially_refunded", "refunded")
    charges = sum(1 for c in seeded if c["status"] in sales)
    refunded = sum(1 for c in seeded if c["status"] in sales and c["refunded_amount"] > 0)
    # HitPay has no refunds list and a partly refunded charge may keep "succeeded": the charges
    # are listed, every sale listed again by status, and each refunded one read once.
    source_minimum = math.ceil(len(seeded) / PAGE) + math.ceil(charges / PAGE) + refunded
    minimum = sum(cold_documents.values()) + cold_documents["invoice"]
    destination_calls = sum(cold_calls[k] for k in ("writes", "reads", "metadata", "token"))
    options = (("fees", fees), ("payments", payments))
    label = mode + "".join(f" --{name} daily" for name, value in options if value)
    return {
        "mode": label,
        "charges": charges,
        "bulk_days": days if mode == "bulk" else None,
        "documents": dict(cold_documents),
        "cold_calls": dict(cold_calls),
        "destination_calls": destination_calls,
        "destination_minimum": minimum,
        "source_calls": cold_calls["source"],
        "source_minimum": source_minimum,
        "per_charge": round(destination_calls / charges, 3),
        "per_charge_minimum": round(minimum / charges, 3),
        "per_bulk_day": round(destination_calls / days, 2) if mode == "bulk" else None,
        "per_bulk_day_minimum": round(minimum / days, 2) if mode == "bulk" else None,
        "warm_documents": dict(warm_documents),
        "warm_calls": dict(warm_calls),
        "warm_metadata_calls": warm_calls["metadata"] + warm_calls["token"],
    }


PLANS = {"Free": 1000, "Standard": 2000, "Professional": 5000, "Premium": 10000}
SHARE = 80  # percent: the default --api-share
BUSY_MONTH = 3000  # charges: a busy month (100 a day) back-filled at once
VARIANTS: tuple[tuple[str, str | None, str | None], ...] = (
    ("bulk", None, None),
    ("individual", None, None),
    ("individual", "daily", None),
    ("individual", "daily", "daily"),
)


def days_for_month(result: dict[str, Any]) -> dict[str, int]:
    """Days a back-fill of BUSY_MONTH charges takes at SHARE% of each plan's daily quota: per
    charge in Individual mode, per business day in Bulk (30 days at this data's calls a day;
    a busier day adds refund groups only)."""
    if result["per_bulk_day"] is not None:
        calls = math.ceil(result["per_bulk_day"] * 30)
    else:
        calls = math.ceil(result["per_charge"] * BUSY_MONTH)
    return {plan: math.ceil(calls / (quota * SHARE // 100)) for plan, quota in PLANS.items()}


def main() -> None:
    common.prepare()
    results = []
    for mode, fees, payments in VARIANTS:
        r = run_mode(mode, fees, payments)
        r["days_for_busy_month"] = days_for_month(r)
        results.append(r)
        cold = Counter(r["cold_calls"])
        line = (
            f"{r['mode']:<10} {r['charges']} charges -> {sum(r['documents'].values())} "
            f"documents; Zoho calls {r['destination_calls']} (minimum "
            f"{r['destination_minimum']}: {cold['writes']} writes, {cold['reads']} reads, "
            f"{cold['metadata']} metadata, {cold['token']} token); "
            f"per charge {r['per_charge']} (minimum {r['per_charge_minimum']})"
        )
        if mode == "bulk":
            line += f"; per bulk day {r['per_bulk_day']} (minimum {r['per_bulk_day_minimum']})"
        line += f"; HitPay calls {r['source_calls']} (minimum {r['source_minimum']})"
        print(line)
        print(
            f"{'':<10} warm run: {sum(r['warm_documents'].values())} new documents, calls "
            f"{r['warm_calls']}; metadata calls {r['warm_metadata_calls']} (aim 0)"
        )
        days = ", ".join(f"{plan} {n}" for plan, n in r["days_for_busy_month"].items())
        print(f"{'':<10} a busy month ({BUSY_MONTH:,} charges) at {SHARE}% of a plan: {days} days")
    common.emit("api_calls", {"results": results})


if __name__ == "__main__":
    main()
