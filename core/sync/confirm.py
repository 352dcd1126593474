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

from sqlalchemy import select

from core.errors import BadRecord
from core.records import Charge
from core.store.database import Database
from core.store.models import SourceEventRow, SourceRecord
from core.sync.ingest import store_items

__all__ = ["Confirmation", "confirm_charge_events"]


@dataclass(slots=True)
class Confirmation:
    """Charges looked up by id for events the poll did not cover: confirmed, unknown, not sales."""

    looked_up: int = 0
    confirmed: int = 0
    unknown: int = 0
    not_sales: int = 0


def _unmatched_charge_ids(
    database: Database, connection_id: int, received_by: datetime
) -> list[str]:
    with database.session() as session:
        pending = set(
            session.scalars(
                select(SourceEventRow.object_id).where(
                    SourceEventRow.connection_id == connection_id,
                    SourceEventRow.object == "charge",
                    SourceEventRow.handled_at.is_(None),
                    SourceEventRow.received_at <= received_by,
                )
            )
        )
        if not pending:
            return []
        stored = set(
            session.scalars(
                select(SourceRecord.source_id).where(
                    SourceRecord.connection_id == connection_id,
                    SourceRecord.kind == "charge",
                    SourceRecord.source_id.in_(sorted(pending)),
                )
            )
        )
    return sorted(pending - stored)


def confirm_charge_events(
    database: Database, connection_id: int, source: Any, received_by: datetime, now: datetime
) -> Confirmation:
    """Look up at ``source`` the charges of pending events that the store does not have."""
    result = Confirmation()
    lookup = getattr(source, "lookup", None)
    if lookup is None:
        return result
    found: list[Charge] = []
    for charge_id in _unmatched_charge_ids(database, connection_id, received_by):
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
