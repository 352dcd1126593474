"""One sync per connection at a time, across processes and machines: a lease in the store.

A lease row per connection names its holder (a string unique to one sync, e.g.
``host:pid:random``), the host and process id holding it, and when it expires. A second caller
gets None from :func:`acquire` while the lease is live. A lease is taken over

- at once when its holder ran on this host and that process is gone (``kill -9`` must not
  block the next sync for minutes), and
- after it expires otherwise (the holder's host may be alive and only slow: it should
  :func:`renew` well within ``ttl``).

Every write is a single atomic statement whose WHERE clause carries what was read
(compare-and-swap), so two contenders cannot both win on SQLite or PostgreSQL, whatever the
isolation level: ``INSERT ... ON CONFLICT DO NOTHING`` for a free connection, a conditional
``UPDATE`` checked by its row count for a takeover or a renewal. The statements are the
store's (:mod:`core.store.leases`); this module decides when each is tried.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import LedgersyncError, SyncRefused
from core.store.database import Database
from core.store.leases import (
    Lease,
    drop_lease,
    extend_lease,
    stored_lease,
    take_free_lease,
    take_over_lease,
)
from core.store.repository import utcnow

__all__ = [
    "DEFAULT_TTL",
    "Lease",
    "LeaseKeeper",
    "LeaseLost",
    "abandoned",
    "acquire",
    "current_lease",
    "held",
    "process_alive",
    "release",
    "renew",
]

log = logging.getLogger(__name__)
DEFAULT_TTL = timedelta(minutes=10)
Clock = Callable[[], datetime]
_TAKEOVER_TRIES = 3


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): os.kill is all we know
    return state not in ("Z", "X")


def abandoned(seen: Lease, now: datetime, my_host: str) -> bool:
    """Whether ``seen`` may be taken over: expired, or its process on this host is gone."""
    if seen.expires_at <= now:
        return True
    return seen.host == my_host and not process_alive(seen.pid)


def acquire(
    database: Database,
    connection_id: int,
    *,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utcnow,
    host: str | None = None,
    pid: int | None = None,
) -> Lease | None:
    """Take the lease of ``connection_id`` for ``holder``; None while someone else holds it.

    ``holder`` must be unique to this sync (renew and release name it). ``host`` and ``pid``
    default to this machine and process; tests pass others to stand for a remote holder.
    """
    my_host = host or socket.gethostname()
    now = clock()
    wanted = Lease(connection_id, holder, my_host, pid or os.getpid(), now, now + ttl)
    for _ in range(_TAKEOVER_TRIES):
        if take_free_lease(database, wanted):
            return _confirmed(database, connection_id, holder)
        seen = stored_lease(database, connection_id)
        if seen is None:
            continue  # released between our insert and our read: try the insert again
        if not abandoned(seen, now, my_host):
            return None
        if take_over_lease(database, seen, wanted):
            log.info(
                "lease of connection %s taken over from %s (%s)",
                connection_id,
                seen.describe(),
                "expired" if seen.expires_at <= now else "holder process is gone",
            )
            return _confirmed(database, connection_id, holder)
    return None


def _confirmed(database: Database, connection_id: int, holder: str) -> Lease | None:
    """Re-read after commit: the lease is ours only if the row says so."""
    seen = stored_lease(database, connection_id)
    return seen if seen is not None and seen.holder == holder else None


def renew(
    database: Database,
    connection_id: int,
    *,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utcnow,
) -> Lease | None:
    """Push the expiry to ``clock() + ttl``; None when ``holder`` no longer holds the lease.

    A holder whose lease expired but was not taken over still renews it.
    """
    if not extend_lease(database, connection_id, holder, clock() + ttl):
        log.warning("lease of connection %s was lost by %s", connection_id, holder)
        return None
    return _confirmed(database, connection_id, holder)


def release(database: Database, connection_id: int, *, holder: str) -> bool:
    """Give the lease up; False when ``holder`` did not hold it (taken over or released)."""
    return drop_lease(database, connection_id, holder)


def current_lease(database: Database, connection_id: int) -> Lease | None:
    """The lease row of ``connection_id`` as stored (possibly expired), or None."""
    return stored_lease(database, connection_id)


@contextmanager
def held(
    database: Database,
    connection_id: int,
    *,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utcnow,
    name: str | None = None,
) -> Iterator[Lease]:
    """Hold the lease for the ``with`` block, or raise SyncRefused naming who holds it."""
    lease = acquire(database, connection_id, holder=holder, ttl=ttl, clock=clock)
    if lease is None:
        other = current_lease(database, connection_id)
        who = f" ({other.describe()})" if other else ""
        label = repr(name) if name else f"connection {connection_id}"
        raise SyncRefused(
            f"a sync of {label} is already running{who}.",
            "Wait for it to finish; `ledgersync status` shows the last sync.",
        )
    try:
        yield lease
    finally:
        release(database, connection_id, holder=holder)


class LeaseLost(LedgersyncError):
    """The lease expired and another process took it over: this sync must stop writing."""


class LeaseKeeper:
    """Keeps a held lease alive through a long step: call it often (e.g. per document).

    It renews when a third of ``ttl`` has passed since the last renewal, and raises
    :class:`LeaseLost` when the lease is no longer ours, so the sync stops before a second
    one could write the same documents. Its call signature fits delivery's ``on_progress``.
    """

    def __init__(
        self,
        database: Database,
        connection_id: int,
        *,
        holder: str,
        ttl: timedelta = DEFAULT_TTL,
        clock: Clock = utcnow,
    ) -> None:
        self.database = database
        self.connection_id = connection_id
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.renewed_at = clock()

    def __call__(self, *_progress: object) -> None:
        now = self.clock()
        if now - self.renewed_at < self.ttl / 3:
            return
        lease = renew(
            self.database, self.connection_id, holder=self.holder, ttl=self.ttl, clock=self.clock
        )
        if lease is None:
            raise LeaseLost(
                f"the sync lease of connection {self.connection_id} was taken over.",
                "Another process is syncing it now; this run stops and changes nothing more.",
            )
        self.renewed_at = now
