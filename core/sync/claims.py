"""One live store per organization: a claim kept in the destination itself.

Adoption (``core/sync/adoption.py``) lets a rebuilt store take over what a lost store wrote.
It must not let two LIVE stores write to one organization: both would plan the same keys and
book new days twice. So each connection has a claim id of its own, kept in its store, and the
organization holds one :class:`~core.contracts.Claim` (a destination implementing
:class:`~core.contracts.ClaimKeeper` keeps it where it can, e.g. in a contact). Before every
delivery run the host reads it:

- no claim, or this store's own: write it (a heartbeat, at most once per ``HEARTBEAT``);
- another store's claim renewed within ``stale_after()`` (``LEDGERSYNC_CLAIM_STALE_DAYS``,
  default 3 days; a daily sync renews it daily): refuse, naming that store, before anything is
  written;
- another store's claim older than that: the store is taken to be gone; this one takes over.

After a store was lost, the operator confirms it is gone and takes over at once with
``ledgersync claim NAME --take-over`` (or the destination's connect command with
``--take-over``); the next sync then
adopts what the old store wrote. A destination without claims is never refused.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.contracts import Claim, ClaimKeeper
from core.errors import ConfigurationError
from core.store.claims import (
    CLAIM_ID_KEY,
    claim_id,
    claim_written_at,
    claiming_connection,
    note_claim_written,
)
from core.store.database import Database

__all__ = [
    "CLAIM_ID_KEY",
    "HEARTBEAT",
    "ClaimOutcome",
    "OrganizationClaimed",
    "claim_calls",
    "claim_id",
    "claim_organization",
    "describe",
    "stale_after",
]

STALE_AFTER = timedelta(days=3)
HEARTBEAT = timedelta(hours=1)  # a claim of ours renewed this recently is not written again


class OrganizationClaimed(ConfigurationError):
    """Another live store writes to this organization: this one writes nothing."""


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What claiming did: the claim now held, and the other store's claim it replaced."""

    claim: Claim
    replaced: Claim | None = None  # another store's claim, taken over (stale or asked)
    written: bool = False


def stale_after() -> timedelta:
    """How long another store's claim holds unrenewed: LEDGERSYNC_CLAIM_STALE_DAYS or 3 days."""
    raw = os.environ.get("LEDGERSYNC_CLAIM_STALE_DAYS", "").strip()
    try:
        days = float(raw) if raw else None
    except ValueError:
        days = None
    return timedelta(days=days) if days is not None and days > 0 else STALE_AFTER


def claim_calls(database: Database, connection_id: int, now: datetime) -> int:
    """The destination calls the claim costs the next delivery run (for the forecast): one
    read, and one write unless this store wrote its claim less than ``HEARTBEAT`` ago."""
    written = claim_written_at(database, connection_id)
    return 1 if written is not None and now - written < HEARTBEAT else 2


def describe(claim: Claim) -> str:
    """The claiming store in words: its id, connection, host and when it was last seen."""
    seen = claim.seen_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"store {claim.holder[:8]} (connection {claim.connection!r} on host {claim.host!r}, "
        f"last seen {seen})"
    )


def claim_organization(
    database: Database,
    connection_id: int,
    destination: object,
    now: datetime,
    *,
    take_over: bool = False,
) -> ClaimOutcome | None:
    """Claim the connection's organization for this store, or raise OrganizationClaimed.

    None when the destination keeps no claims. ``take_over``: the operator confirmed the other
    store is gone; its claim is replaced whatever its age."""
    if not isinstance(destination, ClaimKeeper):
        return None
    mine = claim_id(database, connection_id, now)
    name, organization = claiming_connection(database, connection_id)
    organization = organization or "?"
    held = destination.read_claim()
    other = held is not None and held.holder != mine
    if held is not None and other and not take_over and now - held.seen_at < stale_after():
        raise _claimed(held, name, organization)
    if held is not None and not other and now - held.seen_at < HEARTBEAT:
        return ClaimOutcome(held)
    claim = Claim(holder=mine, connection=name, host=socket.gethostname(), seen_at=now)
    written = destination.write_claim(claim)
    if written.holder != mine:  # another store claimed it first, in the same moment
        raise _claimed(written, name, organization)
    note_claim_written(database, connection_id, now)
    return ClaimOutcome(written, replaced=held if other else None, written=True)


def _claimed(held: Claim, name: str, organization: str) -> OrganizationClaimed:
    days = stale_after().total_seconds() / 86400
    return OrganizationClaimed(
        f"organization {organization} is written by another ledgersync store: "
        f"{describe(held)}; this store wrote nothing there.",
        f"Two stores on one organization would book everything twice. If that store is gone "
        f"(deleted or lost), take over: `ledgersync claim {name} --take-over`; else sync from "
        f"that store only. A claim not renewed for {days:g} days is taken over by the next sync.",
    )
