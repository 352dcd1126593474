"""HitPay webhooks: the delay from a charge to its invoice in Zoho Books at the default
settings, and the Zoho Books calls per burst of events.

The HitPay stand-in sends real signed webhooks to the web app (waitress on 127.0.0.1) of a
fresh SQLite store; event syncs run through the engine as `ledgersync serve` runs them. The
quiet window is not waited out in real time: the event sync is started at the instant it falls
due (first event + quiet window), and the delay is the webhook's own latency, plus the quiet
window, plus the measured time of that sync. A connection that had an event sync less than
``every`` minutes ago waits until that interval is over: the worst case is printed too.

    python benchmarks/webhooks.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import common

SALT = "bench-salt"
BURSTS = {"individual": 200, "bulk": 1000}


def _event_runs(host: Any) -> int:
    from sqlalchemy import func, select

    from core.store.models import Run

    with host.database.session() as session:
        return session.scalar(select(func.count()).where(Run.trigger == "event")) or 0


def _event_sync(host: Any) -> tuple[float, Any]:
    """Run the event sync at the instant it falls due; its wall time and report."""
    from core import clock
    from core.scheduling.events import event_schedule, run_due_event_syncs
    from core.store.models import Connection

    with host.database.session() as session:
        row = session.get_one(Connection, 1)
        due = event_schedule(host, row, clock.now()).next_event_sync_at
    started = time.monotonic()
    [(_, report)] = run_due_event_syncs(host, due)
    assert not isinstance(report, str) and report.outcome == "succeeded", report
    return time.monotonic() - started, report


def run_mode(mode: str) -> dict[str, Any]:
    from support.pairs import connect_pair

    from core import clock
    from core.connections.event_timing import event_timing
    from core.connections.lifecycle import enable
    from core.connections.setup import load_connection
    from core.host import Host
    from core.web import create_app
    from core.web.server import make_server
    from plugins.hitpay_source.connecting import store_webhook_salt, webhook_url
    from plugins.hitpay_source.testing.kit import HitPayStandInKit
    from plugins.zoho_books.testing.kit import ZohoBooksStandInKit

    with (
        tempfile.TemporaryDirectory() as folder,
        HitPayStandInKit() as source,
        ZohoBooksStandInKit() as destination,
    ):
        host = Host(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        connect_pair(host, source, destination, mode=mode)
        now = clock.now()
        enable(host, "shop", since=now - timedelta(hours=1), now=now)
        store_webhook_salt(host, "shop", SALT)
        server = make_server(create_app(host, session_secret=b"b" * 32), "127.0.0.1", 0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        hitpay, zoho = source.standin, destination.standin
        hitpay.webhooks.register(
            webhook_url(f"http://127.0.0.1:{server.effective_port}", "shop"), SALT
        )
        timing = event_timing(load_connection(host, "shop"))
        try:
            # Warm-up: the first sync reads the organization's metadata once.
            hitpay.add_charge(amount=Decimal("1.00"))
            _event_sync(host)

            # One charge: paid -> webhook accepted -> quiet window -> event sync.
            sent = time.monotonic()
            hitpay.add_charge(amount=Decimal("12.34"))
            latency = time.monotonic() - sent
            sync_seconds, single = _event_sync(host)
            if mode == "individual":
                assert single.documents_delivered["invoice"] == 1, single.documents_delivered

            # A burst: every event inside one quiet window.
            zoho.requests.clear()
            hitpay.clear_requests()
            sent = time.monotonic()
            for n in range(BURSTS[mode]):
                hitpay.add_charge(amount=Decimal("2.00") + n)
            burst_post_seconds = time.monotonic() - sent
            runs_before = _event_runs(host)
            burst_sync_seconds, report = _event_sync(host)
            burst_syncs = _event_runs(host) - runs_before
            deliveries = [d.status for d in hitpay.webhooks.deliveries]
        finally:
            server.close()
            thread.join(timeout=10)
            host.close()
    quiet, every = timing.quiet.total_seconds(), timing.every.total_seconds()
    return {
        "mode": mode,
        "quiet_seconds": quiet,
        "every_minutes": every / 60,
        "webhook_seconds": round(latency, 3),
        "event_sync_seconds": round(sync_seconds, 3),
        "charge_to_invoice_seconds": round(latency + quiet + sync_seconds, 1),
        "charge_to_invoice_worst_seconds": round(latency + every + sync_seconds, 1),
        "burst_events": BURSTS[mode],
        "burst_post_seconds": round(burst_post_seconds, 2),
        "burst_syncs": burst_syncs,
        "burst_sync_seconds": round(burst_sync_seconds, 2),
        "burst_zoho_calls": len(zoho.requests),
        "burst_hitpay_calls": len(hitpay.requests),
        "burst_documents": dict(report.documents_delivered),
        "deliveries_refused": sum(1 for s in deliveries if not 200 <= s < 300),
    }


def main() -> None:
    common.prepare()
    results = []
    for mode in ("individual", "bulk"):
        r = run_mode(mode)
        results.append(r)
        if mode == "individual":
            print(
                f"individual: charge -> invoice in Zoho {r['charge_to_invoice_seconds']} s at the "
                f"defaults (webhook {r['webhook_seconds']} s + quiet window "
                f"{r['quiet_seconds']:g} s + event sync {r['event_sync_seconds']} s); at worst "
                f"{r['charge_to_invoice_worst_seconds']} s, right after another event sync "
                f"(every {r['every_minutes']:g} min)"
            )
        print(
            f"{mode}: a burst of {r['burst_events']} events (posted in {r['burst_post_seconds']} s)"
            f" -> {r['burst_syncs']} sync of {r['burst_sync_seconds']} s, "
            f"{r['burst_zoho_calls']} Zoho calls ({r['burst_zoho_calls'] / r['burst_events']:.2f}"
            f" per event), {r['burst_hitpay_calls']} HitPay calls, documents "
            f"{r['burst_documents'] or 'none (bulk books the day once it has closed)'}"
        )
    common.emit("webhooks", {"results": results})


if __name__ == "__main__":
    main()
