"""Rate-limit use: how much of Zoho's per-minute allowance a sync uses, with no 429.

Zoho Books allows 100 requests per minute per organization. The benchmark scales time so a
minute passes in ``60 / --scale`` real seconds (4 s by default), on both sides: the Zoho
Books stand-in's clock (its fixed per-minute windows) and the Zoho plugin's clock (its
sliding-window limiter and any wait for a window). A sync in Individual mode of enough sales
to need several minutes of requests runs; the stand-in's log gives the requests admitted in
each of its windows. Achieved = the mean over the full windows (the first and last are
partial) / the limit. Aim: >= 95% with zero 429 answers.

    python benchmarks/bench_rate_limit.py
    python benchmarks/bench_rate_limit.py --charges 300 --scale 20
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import common

LIMIT = 100  # Zoho Books: requests per minute per organization


class ScaledClock:
    """Real time, ``scale`` times faster: ``now``, ``monotonic`` and ``sleep`` agree."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._wall = datetime.now(UTC)
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self._start) * self.scale

    def now(self) -> datetime:
        return self._wall + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            threading.Event().wait(seconds / self.scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=160)
    parser.add_argument("--scale", type=float, default=15.0)
    args = parser.parse_args()
    common.prepare()

    from support.pairs import connect_pair

    import plugins.zoho_books.destination as zoho_destination
    from core.host import Host
    from core.sync.engine import SyncOptions, sync
    from plugins.hitpay_source.testing.kit import HitPayStandInKit
    from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
    from plugins.zoho_books.testing.standin import ZohoBooksStandIn

    clock = ScaledClock(args.scale)

    class ScaledZohoBooksStandIn(ZohoBooksStandIn):
        def now(self) -> datetime:
            return clock.now()

    # The plugin builds its clock as SystemClock(): give it the scaled one.
    zoho_destination.SystemClock = lambda: clock  # type: ignore[assignment,misc,return-value]

    now = datetime.now(UTC)
    start = now - timedelta(days=3)
    with (
        tempfile.TemporaryDirectory() as folder,
        HitPayStandInKit() as source,
        ZohoBooksStandInKit(ScaledZohoBooksStandIn(per_minute=LIMIT).start()) as destination,
    ):
        for n in range(args.charges):
            source.standin.add_charge(
                amount=Decimal("20.00") + n, created_at=start + timedelta(minutes=n)
            )
        host = Host(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        # a local stand-in: no other app shares its daily quota
        connect_pair(
            host,
            source,
            destination,
            since=start - timedelta(days=1),
            now=now,
            mode="individual",
            api_share=100,
        )
        zoho = destination.standin
        zoho.requests.clear()
        zoho.answers.clear()
        began = time.perf_counter()
        report = sync(host, "shop", SyncOptions(trigger="manual", now=now))
        elapsed = time.perf_counter() - began
        assert report.outcome == "succeeded", report.error
        statuses = Counter(status for status, _code in zoho.answers.values())
        admitted = [r for r in zoho.requests if zoho.answers.get(r.number, (200, None))[0] != 429]
        host.close()
    windows = Counter(int(r.at.timestamp() // 60) for r in admitted)
    ordered = [windows[w] for w in sorted(windows)]
    full = ordered[1:-1]
    achieved = sum(full) / len(full) / LIMIT if full else 0.0
    print(
        f"{len(admitted)} Zoho requests in {elapsed:.1f} s real = {elapsed * args.scale / 60:.2f} "
        f"scaled minutes; per window {ordered} (limit {LIMIT})"
    )
    print(
        f"achieved {achieved:.1%} of the limit over the {len(full)} full windows (aim >= 95%); "
        f"429 answers: {statuses.get(429, 0)} (aim 0)"
    )
    common.emit(
        "rate_limit",
        {
            "limit_per_minute": LIMIT,
            "scale": args.scale,
            "requests": len(admitted),
            "per_window": ordered,
            "full_windows": len(full),
            "achieved": round(achieved, 4),
            "responses_429": statuses.get(429, 0),
            "aim_achieved_at_least": 0.95,
        },
    )


if __name__ == "__main__":
    main()
