"""End-to-end overhead: a full sync against the stand-ins, beside a bare replay of its HTTP.

For each mode, one business with ``--charges`` sales (100 a day, ``--refund-share`` of them
partly refunded) on a HitPay stand-in and a Zoho Books stand-in on loopback, a fresh SQLite
store:

1. sync: ``core.sync.engine.sync`` of the whole history, timed; every HTTP request it makes is
   recorded (method, URL, headers, body) on the way out;
2. the Zoho organization is put back as it was before the sync (its ids come from a serial,
   so they repeat);
3. replay: the recorded requests sent again, in order, with one bare ``requests.Session``,
   timed. Answers must match the sync's status codes.

sync / replay is the cost of everything ledgersync does beyond the HTTP itself: the store,
planning, mapping, delivery bookkeeping, client-side checks. Aim: <= 1.3.

    python benchmarks/bench_overhead.py                  # 5,000 charges, bulk and individual
    python benchmarks/bench_overhead.py --modes bulk --charges 1000 --profile out.html
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import common

PER_DAY = 100
RecordedCall = tuple[str, str, dict[str, str], Any, int]


class Recorder:
    """Records every request any ``requests.Session`` sends, with its answer's status."""

    def __init__(self) -> None:
        import requests

        self.calls: list[RecordedCall] = []
        self._send = requests.Session.send
        self._session = requests.Session

    def __enter__(self) -> Recorder:
        send, calls = self._send, self.calls

        def recording(session: Any, request: Any, **kwargs: Any) -> Any:
            response = send(session, request, **kwargs)
            calls.append(
                (
                    request.method,
                    request.url,
                    dict(request.headers),
                    request.body,
                    response.status_code,
                )
            )
            return response

        self._session.send = recording  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._session.send = self._send  # type: ignore[method-assign]


def seed(standin: Any, charges: int, refund_share: float, start: datetime) -> int:
    refunds = 0
    every = max(1, round(1 / refund_share)) if refund_share > 0 else 0
    for n in range(charges):
        at = start + timedelta(days=n // PER_DAY, minutes=5 * (n % PER_DAY))
        charge = standin.add_charge(amount=Decimal("10.00") + n % 90, created_at=at)
        if every and n % every == 0:
            standin.refund(charge["id"], Decimal("3.00"), at=at + timedelta(hours=2))
            refunds += 1
    return refunds


def replay(calls: list[RecordedCall]) -> tuple[float, int]:
    import requests

    session = requests.Session()
    mismatched = 0
    started = time.perf_counter()
    for method, url, headers, body, status in calls:
        answer = session.request(method, url, headers=headers, data=body)
        answer.content  # noqa: B018 - read the body, as a client does
        mismatched += answer.status_code != status
    elapsed = time.perf_counter() - started
    session.close()
    return elapsed, mismatched


def run_mode(mode: str, charges: int, refund_share: float, profile: Path | None) -> dict[str, Any]:
    from support.pairs import connect_pair

    from core.host import Host
    from core.sync.engine import SyncOptions, sync
    from plugins.hitpay_source.testing.kit import HitPayStandInKit
    from plugins.hitpay_source.testing.standin import HitPayStandIn
    from plugins.zoho_books.testing.kit import ZohoBooksStandInKit

    now = datetime.now(UTC)
    days = -(-charges // PER_DAY)
    start = (now - timedelta(days=days + 2)).replace(hour=1, minute=0, second=0, microsecond=0)
    with (
        tempfile.TemporaryDirectory() as folder,
        HitPayStandInKit(HitPayStandIn(timezone="Asia/Singapore").start()) as source,
        ZohoBooksStandInKit() as destination,
    ):
        refunds = seed(source.standin, charges, refund_share, start)
        host = Host(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        connect_pair(host, source, destination, since=start - timedelta(days=1), now=now, mode=mode)
        org = destination.connected["shop"]
        zoho = destination.standin
        zoho.organizations[org.organization_id].daily_limit = 10**9  # a big plan
        before = copy.deepcopy(zoho.organizations[org.organization_id])

        profiler = _profiler(profile)
        with Recorder() as recorder:
            started = time.perf_counter()
            report = sync(host, "shop", SyncOptions(trigger="manual", now=now))
            sync_seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.stop()
            target = profile.with_name(f"{profile.stem}-{mode}{profile.suffix}")  # type: ignore[union-attr]
            target.write_text(profiler.output_html())
            print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
        assert report.outcome == "succeeded", report.error
        with zoho.lock:
            zoho.organizations[org.organization_id] = before
        replay_seconds, mismatched = replay(recorder.calls)
        host.close()
    documents = sum(report.documents_delivered.values())
    return {
        "mode": mode,
        "charges": charges,
        "refunds": refunds,
        "documents": documents,
        "requests": len(recorder.calls),
        "sync_seconds": round(sync_seconds, 3),
        "replay_seconds": round(replay_seconds, 3),
        "ratio": round(sync_seconds / replay_seconds, 3),
        "replay_status_mismatches": mismatched,
    }


def _profiler(profile: Path | None) -> Any:
    if profile is None:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=5000)
    parser.add_argument("--refund-share", type=float, default=0.1)
    parser.add_argument("--modes", nargs="+", default=["bulk", "individual"])
    parser.add_argument("--profile", type=Path, help="pyinstrument HTML of each sync here")
    args = parser.parse_args()
    common.prepare()
    results = []
    for mode in args.modes:
        result = run_mode(mode, args.charges, args.refund_share, args.profile)
        results.append(result)
        print(
            f"{mode:<10} {result['charges']} charges, {result['refunds']} refunds -> "
            f"{result['documents']} documents, {result['requests']} requests: "
            f"sync {result['sync_seconds']:.2f} s, replay {result['replay_seconds']:.2f} s, "
            f"ratio {result['ratio']:.2f} (aim <= 1.3)"
            + (
                f", {result['replay_status_mismatches']} replay answers differ"
                if result["replay_status_mismatches"]
                else ""
            ),
            flush=True,
        )
    common.emit("overhead", {"aim_ratio_at_most": 1.3, "results": results})


if __name__ == "__main__":
    main()
