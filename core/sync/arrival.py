"""What connecting a destination finds in the organization: who writes there, and what it
already holds under ledgersync's keys (which the next sync adopts, never creating it again).

Called by a destination's connect command once the connection points at the organization;
every line is for the operator. A look that fails is one line too: connecting has succeeded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.contracts import BooksIndex, ClaimKeeper
from core.errors import LedgersyncError
from core.host import Host
from core.store.repository import get_connection
from core.store.sync_periods import first_sync_start
from core.sync.adoption import adoption_pending
from core.sync.claims import OrganizationClaimed, claim_id, claim_organization, describe

__all__ = ["LOOK_BACK", "arrival_lines"]

LOOK_BACK = timedelta(days=366)  # how far back connect looks when no sync period says


def arrival_lines(host: Host, name: str, now: datetime, *, take_over: bool = False) -> list[str]:
    """The claim and adoption report printed by ``connect`` (``take_over``: claim it now)."""
    destination, calls = host.open_destination(name)
    with host.database.session() as session:
        row = get_connection(session, name)
        connection_id, source = row.id, row.source
        first = first_sync_start(session, connection_id)
    lines: list[str] = []
    try:
        lines += _claim_lines(host, connection_id, name, destination, now, take_over)
        lines += _adoption_lines(host, connection_id, source, destination, first, now)
    except OrganizationClaimed as claimed:
        lines.append(f"Refused: {claimed.message}")
        lines.append(claimed.hint)
    except LedgersyncError as error:
        lines.append(f"Could not look into the organization now: {error}")
    finally:
        with host.database.session() as session:
            calls.flush(session, connection_id)
    return lines


def _claim_lines(
    host: Host, connection_id: int, name: str, destination: object, now: datetime, take_over: bool
) -> list[str]:
    if not isinstance(destination, ClaimKeeper):
        return []
    if take_over:
        outcome = claim_organization(host.database, connection_id, destination, now, take_over=True)
        if outcome is not None and outcome.replaced is not None:
            return [f"Took the organization over from {describe(outcome.replaced)}."]
        return ["This store now claims the organization."]
    held = destination.read_claim()
    if held is None:
        return ["No ledgersync store claims the organization yet: the first sync claims it."]
    if held.holder == claim_id(host.database, connection_id, now):
        return ["The organization is claimed by this store."]
    return [
        f"The organization is claimed by another ledgersync store: {describe(held)}. Syncs from "
        "this store are refused while that claim is renewed. If that store is gone (deleted or "
        f"lost), take over: `ledgersync claim {name} --take-over`."
    ]


def _adoption_lines(
    host: Host,
    connection_id: int,
    source: str,
    destination: object,
    first: datetime | None,
    now: datetime,
) -> list[str]:
    if not isinstance(destination, BooksIndex):
        return []
    start = ((first - timedelta(days=1)) if first else now - LOOK_BACK).date()
    keys = sorted(
        key for key in destination.keys_in_books(start, now.date()) if key.startswith(f"{source}:")
    )
    if not keys:
        return [
            f"No document under ledgersync's keys ({source}:...) in the organization since "
            f"{start}: the first sync creates what it books."
        ]
    if not adoption_pending(host.database, connection_id):
        return [f"The organization holds {len(keys)} document(s) under ledgersync's keys."]
    return [
        f"The organization already holds {len(keys)} document(s) under ledgersync's keys "
        f"({source}:..., since {start}), written by an earlier store. The next sync adopts "
        "each one it would write (binds it to its records, creates none) and says so."
    ]
