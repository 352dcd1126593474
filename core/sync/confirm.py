"""Events checked against the source's API before anything of theirs is booked.

A webhook can be forged, replayed, altered or about a charge the poll has not reached. After
the poll, each pending event about a charge the store does not have is looked up by id at the
source (``Source.lookup``, optional); what the source confirms is stored like a fetched record,
and what it does not know books nothing. The event body itself never becomes a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import BadRecord
from core.records import Charge
from core.store.database import Database
from core.store.source_events import unrecorded_charge_ids
from core.sync.ingest import store_items

__all__ = ["Confirmation", "confirm_charge_events"]


@dataclass(slots=True)
class Confirmation:
    """Charges looked up by id for events the poll did not cover: confirmed, unknown, not sales."""

    looked_up: int = 0
    confirmed: int = 0
    unknown: int = 0
    not_sales: int = 0


def confirm_charge_events(
    database: Database, connection_id: int, source: Any, received_by: datetime, now: datetime
) -> Confirmation:
    """Look up at ``source`` the charges of pending events that the store does not have."""
    result = Confirmation()
    lookup = getattr(source, "lookup", None)
    if lookup is None:
        return result
    found: list[Charge] = []
    for charge_id in unrecorded_charge_ids(database, connection_id, received_by):
        result.looked_up += 1
        try:
            charge = lookup(charge_id)
        except BadRecord:  # the source knows it, but it is no completed sale
            result.not_sales += 1
            continue
        if charge is None:
            result.unknown += 1
        else:
            found.append(charge)
    if found:
        with database.session() as session:
            store_items(session, connection_id, found, now)
        result.confirmed = len(found)
    return result
