"""The quarantine of one connection: payloads that could not become records, with reasons;
and a retry after a fix (at the source, or of ledgersync) that takes each back in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import BadRecord, LedgersyncError
from core.host import Host
from core.store.quarantine_entries import (
    forget_fetched_until,
    rejudge_set_aside,
    unresolved_entries,
)
from core.store.repository import get_connection, utcnow
from core.sync.ingest import store_items

__all__ = ["QuarantineRetry", "quarantined", "retry_quarantined"]

log = logging.getLogger(__name__)


def quarantined(host: Host, name: str) -> list[dict[str, Any]]:
    """Each unresolved quarantined record of ``name``: source id, kind, reason, first and
    last seen, newest first."""
    with host.database.session() as session:
        row = get_connection(session, name)
        return unresolved_entries(session, row.id)


@dataclass(slots=True)
class QuarantineRetry:
    """What a retry did before the sync that follows it: charges read again one by one (now
    readable, or still not), records to be judged again, and whether everything is refetched."""

    read_again: int = 0
    still_bad: int = 0
    rejudged: int = 0
    refetch: bool = False


def retry_quarantined(host: Host, name: str, now: datetime | None = None) -> QuarantineRetry:
    """Prepare the next sync to take the quarantine back in: a charge the source can look up
    is read again now (stored when readable, which resolves its entry); a record the planner
    quarantined (a refund it could not book) is judged again; anything else is refetched (the
    whole range of the sync periods). Entries that are still bad come back at the sync."""
    now = now or utcnow()
    outcome = QuarantineRetry()
    with host.database.session() as session:
        row = get_connection(session, name)
        connection_id = row.id
        rejudged, waiting = rejudge_set_aside(session, connection_id, now)
        outcome.rejudged += rejudged
    lookups = [source_id for kind, source_id in waiting if kind == "charge" and source_id]
    unread = len(waiting) - len(lookups)
    if lookups:
        source, calls = host.open_source(name)
        lookup = getattr(source, "lookup", None)
        try:
            for source_id in lookups:
                if lookup is None:
                    unread += 1
                    continue
                try:
                    found = lookup(source_id)
                except BadRecord:
                    outcome.still_bad += 1
                    continue
                except LedgersyncError as error:
                    log.warning(
                        "connection %s: could not read %s again: %s", name, source_id, error
                    )
                    unread += 1
                    continue
                if found is None:
                    outcome.still_bad += 1
                    continue
                with host.database.session() as session:
                    store_items(session, connection_id, [found], now)
                outcome.read_again += 1
        finally:
            with host.database.session() as session:
                calls.flush(session, connection_id)
    if unread:
        with host.database.session() as session:
            forget_fetched_until(session, name)  # the next sync fetches every period again
        outcome.refetch = True
    return outcome
