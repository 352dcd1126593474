"""A separate process that contends for a connection's lease (run as a script by tests).

    python lease_holder.py DB_URL CONNECTION_ID [--wait-go]

Prints ``acquired HOLDER`` or ``busy`` (one line, flushed). With ``--wait-go`` it first waits
for a ``go`` line on stdin, so several holders can be released at the same moment. Once it
holds the lease it waits for a line on stdin: ``release`` gives the lease up and prints
``released``; end of input exits without releasing (like a crash, but tests use kill -9).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from core.store.database import open_database
from core.sync import leases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("connection_id", type=int)
    parser.add_argument("--wait-go", action="store_true")
    parser.add_argument("--ttl", type=float, default=600.0)
    args = parser.parse_args()
    database = open_database(args.db_url, upgrade=False)
    if args.wait_go:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 2
    holder = f"subprocess:{os.getpid()}"
    lease = leases.acquire(
        database, args.connection_id, holder=holder, ttl=timedelta(seconds=args.ttl)
    )
    if lease is None:
        print("busy", flush=True)
        return 0
    print(f"acquired {holder}", flush=True)
    if sys.stdin.readline().strip() == "release":
        leases.release(database, args.connection_id, holder=holder)
        print("released", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
