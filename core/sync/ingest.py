"""Ingest, the pipeline's first step: what a source fetched goes into the store.

The statements live in the store (:mod:`core.store.source_records`): records upserted by
source id, bad payloads quarantined, planned amounts kept. This module is the pipeline's name
for that step.
"""

from __future__ import annotations

from core.store.source_records import (
    BATCH,
    REFUND_OF_UNFETCHED_CHARGE,
    REFUND_OF_UNREADABLE_CHARGE,
    IngestCounts,
    json_safe,
    quarantine_items,
    store_items,
)

__all__ = [
    "BATCH",
    "REFUND_OF_UNFETCHED_CHARGE",
    "REFUND_OF_UNREADABLE_CHARGE",
    "IngestCounts",
    "json_safe",
    "quarantine_items",
    "store_items",
]
