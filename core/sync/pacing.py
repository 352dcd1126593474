"""Pacing: deliver in units that keep the books consistent at every pause.

When the work is larger than what is left of today's share of the destination's API quota,
delivery stops between units, never inside one: oldest first (the outbox's order), a charge's
invoice, payment and fee expense together, a day's shared payment (``--payments daily``) with
the invoices it settles. Before a unit's first document the delivery asks the share for the
calls the whole unit needs; if they do not fit, the run pauses there ("resumes at <time>: N
documents left") and the next run after the reset, which the scheduler and Celery beat start by
themselves (``paused_until``), delivers it whole. A unit larger than a whole day's share is let
through document by document (it could never fit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from core.documents import Document

__all__ = ["delivery_units", "unit_costs", "unit_order"]

_CHARGE_KINDS = frozenset({"invoice", "payment", "expense"})


def delivery_units(documents: Sequence[Document]) -> list[list[int]]:
    """The documents (indexes into ``documents``) that go together: linked by a dependency
    (a payment and its invoices, a credit note and its refund) or booking the same charge (its
    invoice, payment and fee expense, or a day's shared payment and expense). Each unit lists
    its indexes in order; units come in the order of their first document."""
    parent = list(range(len(documents)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def join(first: int, second: int) -> None:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_key = {document.key: index for index, document in enumerate(documents)}
    by_charge: dict[str, int] = {}
    for index, document in enumerate(documents):
        for key in document.depends_on:
            if key in by_key:
                join(index, by_key[key])
        if document.kind.value in _CHARGE_KINDS:
            for record_id in document.record_ids:
                join(index, by_charge.setdefault(record_id, index))
    units: dict[int, list[int]] = {}
    for index in range(len(documents)):
        units.setdefault(root(index), []).append(index)
    return list(units.values())


def unit_costs(
    rows: Sequence[tuple[int, Document]], cost: Callable[[Document], int]
) -> dict[int, tuple[int, int]]:
    """Per planned row id of ``rows`` (id, document; in delivery order): its unit (the id of
    the unit's first row) and the calls the whole unit needs."""
    documents = [document for _id, document in rows]
    found: dict[int, tuple[int, int]] = {}
    for unit in delivery_units(documents):
        calls = sum(cost(documents[index]) for index in unit)
        first = rows[unit[0]][0]
        for index in unit:
            found[rows[index][0]] = (first, calls)
    return found


def unit_order(ids: Sequence[int], units: Mapping[int, tuple[int, int]]) -> list[int]:
    """Positions of ``ids`` (planned rows in delivery order) rearranged so each unit's rows
    come one after the other, units in the order of their first row (a dependency is always
    inside its dependent's unit, so dependency order holds)."""
    place = {row_id: index for index, row_id in enumerate(ids)}

    def key(index: int) -> tuple[int, int]:
        first = units.get(ids[index], (ids[index], 0))[0]
        return place.get(first, index), index

    return sorted(range(len(ids)), key=key)
