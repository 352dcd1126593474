"""Why a record is not synced: the skip reasons stored with records and shown by ``why``,
``status`` and the sync summary. One place, so that every layer words them the same way."""

from __future__ import annotations

__all__ = [
    "OUTSIDE_SYNC_PERIODS",
    "QUARANTINED",
    "REFUND_OF_UNFETCHED_CHARGE",
    "REFUND_OF_UNREADABLE_CHARGE",
    "channel_not_selected",
    "refund_of_skipped_charge",
]

OUTSIDE_SYNC_PERIODS = "created while sync was disabled or before it was enabled"
QUARANTINED = "quarantined: "  # prefix of the skip reason of a record moved to quarantine
REFUND_OF_UNFETCHED_CHARGE = "refund of a charge that was never fetched, so never synced"
REFUND_OF_UNREADABLE_CHARGE = "refund of a charge that is quarantined as unreadable"


def channel_not_selected(channel: str | None, raw_channel: str | None) -> str:
    """The skip reason of a charge from a channel the connection does not sync."""
    if channel is None:
        return f"its channel {raw_channel or '(none)'!r} is unknown and not among those selected"
    return f"its channel {channel} is not selected"


def refund_of_skipped_charge(charge_reason: str) -> str:
    return f"refund of a charge that is not synced ({charge_reason})"
