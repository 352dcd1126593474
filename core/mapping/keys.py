"""Document keys and business-local dates shared by the built-in mappers.

Keys are readable and stable: ``<source>:charge:<id>:invoice``, ``<source>:day:<date>:<CUR>:1:
invoice``. A part that would push a key past :data:`MAX_KEY_LENGTH` is replaced by a short,
deterministic hash of itself, so keys stay unique without ever being cut.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime
from hashlib import blake2b
from zoneinfo import ZoneInfo

from core.documents import MAX_KEY_LENGTH

__all__ = [
    "SEQUENCE_ROOM",
    "fit_key",
    "is_closed",
    "local_date",
    "next_sequence",
    "reference_of",
    "short_hash",
]

_LONGEST_SUFFIX = len(":credit_refund")
SEQUENCE_ROOM = len(":9999") + _LONGEST_SUFFIX


def local_date(moment: datetime, timezone: ZoneInfo) -> date:
    """The business-local calendar date of an aware ``moment``."""
    return moment.astimezone(timezone).date()


def is_closed(day: date, now: datetime, timezone: ZoneInfo) -> bool:
    """True once local midnight after ``day`` has passed in ``timezone``."""
    return local_date(now, timezone) > day


def short_hash(text: str) -> str:
    """16 hex digits identifying ``text`` (64 bits: collisions are not a practical concern)."""
    return blake2b(text.encode(), digest_size=8).hexdigest()


def fit_key(head: str, part: str, room: int = _LONGEST_SUFFIX) -> str:
    """``head + part``, with ``part`` hashed when the key built on it could grow too long.

    ``room`` is what will still be appended (``:credit_refund``, a sequence number...); it is
    the same for every kind of one record, so its invoice and credit note hash alike.
    """
    if len(head) + len(part) + room <= MAX_KEY_LENGTH:
        return head + part
    return head + "h." + short_hash(part)


def reference_of(invoice_key: str, source: str) -> str:
    """A compact name for an invoice inside another key: ``day.2026-11-23.SGD.1``.

    The source prefix and the ``:invoice`` suffix are dropped; separators become dots so the
    reference reads as one field of the key it is embedded in.
    """
    reference = invoice_key
    if reference.startswith(source + ":"):
        reference = reference[len(source) + 1 :]
    if reference.endswith(":invoice"):
        reference = reference[: -len(":invoice")]
    return reference.replace(":", ".")


def next_sequence(stem: str, first_suffix: str, taken: Container[str], emitted: set[str]) -> int:
    """The lowest ``n >= 1`` such that ``f"{stem}:{n}:{first_suffix}"`` is free.

    ``taken`` holds keys planned in earlier runs, ``emitted`` those planned in this one: a
    late record for a day already planned gets a supplementary document (``:2``, ``:3``...).
    """
    sequence = 1
    while True:
        key = f"{stem}:{sequence}:{first_suffix}"
        if key not in taken and key not in emitted:
            return sequence
        sequence += 1
