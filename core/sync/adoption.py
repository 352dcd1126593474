"""Adoption: the books are the backup of the store.

Before a store's first delivery to an organization, documents carrying ledgersync's keys may
already be there: written by a store that was lost (deleted file, another user's cron, a
mistyped ``--db``) and then reconnected and enabled with the same ``--since``. Keys are
deterministic, so the new store plans the very same keys. Until one delivery pass to the
organization has finished, delivery looks a document up by key before sending it, and binds
what it finds to its records: adopted, never created again.

Which documents are looked up: with a destination that can list the keys in its books for a
date range (``keys_in_books``, see ``docs/plugin_hooks.md``), those found there and every
document depending on one of them (a payment on its invoice, a refund on its credit note);
one listing instead of a look-up per document, so a fresh organization costs a few calls.
A destination without that listing gets every document looked up. After the pass the
organization is marked adopted for the connection and delivery sends directly again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.contracts import BooksIndex
from core.documents import document_from_dict
from core.store.adoption import (
    ADOPTED_KEY,
    note_organization_adopted,
    organization_adopted,
    planned_bodies,
    planned_date_range,
)
from core.store.database import Database

__all__ = [
    "ADOPTED_KEY",
    "adoption_pending",
    "keys_to_look_up",
    "mark_adopted",
]

MARGIN = timedelta(days=1)  # a destination's date filter may count either end differently


def adoption_pending(database: Database, connection_id: int) -> bool:
    """Whether delivery to the connection's organization must still look before it sends."""
    return not organization_adopted(database, connection_id)


def keys_to_look_up(database: Database, connection_id: int, destination: object) -> set[str] | None:
    """The planned keys to look up before sending; None: look every document up."""
    if not isinstance(destination, BooksIndex):
        return None
    first, last = planned_date_range(database, connection_id)
    if first is None or last is None:
        return set()
    found = set(destination.keys_in_books(first - MARGIN, last + MARGIN))
    return _with_dependents(database, connection_id, found)


def _with_dependents(database: Database, connection_id: int, found: set[str]) -> set[str]:
    """The planned keys in ``found``, and every planned document depending (at any depth) on
    a key in ``found``."""
    depends: dict[str, tuple[str, ...]] = {}
    for key, body in planned_bodies(database, connection_id):
        try:
            depends[key] = document_from_dict(body).depends_on
        except (KeyError, TypeError, ValueError, ArithmeticError):
            depends[key] = ()  # delivery rejects it with its reason
    # Seeded with every key found, not only planned ones: a dependency adopted by an earlier,
    # interrupted pass is no longer planned, yet what depends on it may be in the books too.
    look = set(found)
    grown = True
    while grown:
        more = {key for key, needs in depends.items() if key not in look and look & set(needs)}
        look |= more
        grown = bool(more)
    return look & depends.keys()


def mark_adopted(database: Database, connection_id: int, now: datetime) -> None:
    """A delivery pass that looked first has finished: the organization is adopted."""
    note_organization_adopted(database, connection_id, now)
