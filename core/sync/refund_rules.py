"""Refunds follow their charge: which of a day's refunds go to the mapper, and why not.

A refund is skipped when its charge is not synced (skipped, never fetched, or unreadable),
waits while its charge is fetched but not planned yet, and is quarantined when it does not fit
what is left of its charge (another currency, or more than is still refundable). What a refund
needs to know about its charge is a :class:`ChargeState`, read from the store for charges
outside the day being planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.contracts import ChargeDocuments
from core.documents import DocumentKind
from core.reasons import (
    REFUND_OF_UNFETCHED_CHARGE,
    REFUND_OF_UNREADABLE_CHARGE,
    refund_of_skipped_charge,
)
from core.records import Refund
from core.store.driver import read_moment, read_money
from core.store.open_records import OpenRecords, RefundRow, stored_refund

__all__ = ["ChargeState", "RefundJudge", "refund_problem"]


@dataclass(slots=True)
class ChargeState:
    """What a refund needs to know about its charge."""

    amount: Decimal
    currency: str
    skip_reason: str | None = None
    documents: ChargeDocuments | None = None  # planned in an earlier day or run
    in_day: bool = False  # eligible and handed to the mapper with this day


class RefundJudge:
    """Judges a connection's refunds day by day, in one planning pass.

    ``refunded_now``, ``skipped_now`` and ``charges_now`` are the planner's own records of
    this pass (refunds accepted but not visible as planned in the store; in a dry run, charges
    skipped and documents planned on earlier days), shared, not copied."""

    def __init__(
        self,
        records: OpenRecords,
        refunded_now: dict[str, Decimal],
        skipped_now: dict[str, str],
        charges_now: dict[str, ChargeDocuments],
    ) -> None:
        self.records = records
        self.refunded_now = refunded_now
        self.skipped_now = skipped_now
        self.charges_now = charges_now
        self.waiting = 0  # refunds left for a later run: their charge is not planned yet

    def judge(
        self,
        rows: Sequence[RefundRow],
        states: dict[str, ChargeState],
        skips: list[tuple[int, str]],
    ) -> tuple[list[Refund], dict[str, int], list[tuple[int, Refund, str]]]:
        """Split the day's refunds into those for the mapper (with their record ids), skips
        (added to ``skips``), waits (counted in :attr:`waiting`) and quarantines."""
        if not rows:
            return [], {}, []
        self._load_charges({row[2] for row in rows} - states.keys(), states)
        refunded = self.records.refunded_so_far(sorted({row[2] for row in rows}))
        accepted: list[Refund] = []
        accepted_ids: dict[str, int] = {}
        quarantined: list[tuple[int, Refund, str]] = []
        for record_id, source_id, charge_id, created, currency, amount in rows:
            state = states.get(charge_id)
            if state is None:
                continue  # cannot happen: _load_charges gives every charge a state
            if state.skip_reason is not None:
                skips.append((record_id, state.skip_reason))
                continue
            if state.documents is None and not state.in_day:
                self.waiting += 1  # its charge is fetched but not planned yet
                continue
            refund = stored_refund(
                source_id, charge_id, read_moment(created), currency, read_money(amount)
            )
            already = refunded.get(charge_id, Decimal(0))
            already += self.refunded_now.get(charge_id, Decimal(0))
            problem = refund_problem(refund, state, already)
            if problem is not None:
                quarantined.append((record_id, refund, problem))
                continue
            refunded[charge_id] = refunded.get(charge_id, Decimal(0)) + refund.amount
            accepted.append(refund)
            accepted_ids[source_id] = record_id
        return accepted, accepted_ids, quarantined

    def _load_charges(self, charge_ids: set[str], states: dict[str, ChargeState]) -> None:
        """States of refunded charges outside this day: skipped, planned, waiting or absent."""
        found_rows: dict[int, str] = {}
        for record_id, source_id, amount, currency, skip_reason in self.records.charge_states(
            sorted(charge_ids)
        ):
            # In a dry run, a charge skipped on an earlier day is only skipped in memory.
            reason = skip_reason or self.skipped_now.get(source_id)
            states[source_id] = ChargeState(read_money(amount), currency, skip_reason=reason)
            found_rows[record_id] = source_id
        self._attach_documents(found_rows, states)
        missing = sorted(charge_ids - states.keys())
        unreadable = self.records.quarantined_charges(missing)
        for charge_id in missing:
            reason = (
                REFUND_OF_UNREADABLE_CHARGE
                if charge_id in unreadable
                else REFUND_OF_UNFETCHED_CHARGE
            )
            states[charge_id] = ChargeState(Decimal(0), "", skip_reason=reason)
        for state in states.values():
            if state.skip_reason is not None and state.skip_reason not in (
                REFUND_OF_UNFETCHED_CHARGE,
                REFUND_OF_UNREADABLE_CHARGE,
            ):
                state.skip_reason = refund_of_skipped_charge(state.skip_reason)

    def _attach_documents(self, rows: dict[int, str], states: dict[str, ChargeState]) -> None:
        keys = self.records.invoice_and_payment_keys(sorted(rows))
        for record_id, charge_id in rows.items():
            found = keys.get(record_id, {})
            if DocumentKind.INVOICE.value in found:
                states[charge_id].documents = ChargeDocuments(
                    invoice_key=found[DocumentKind.INVOICE.value],
                    payment_key=found.get(DocumentKind.PAYMENT.value, ""),
                )
        for charge_id in rows.values():  # dry run: planned on an earlier day of this run
            state = states[charge_id]
            if state.documents is None and charge_id in self.charges_now:
                state.documents = self.charges_now[charge_id]


def refund_problem(row: Refund, charge: ChargeState, already: Decimal) -> str | None:
    """Why a refund is bad input, or None: it must fit what is left of its charge."""
    if row.currency != charge.currency:
        return (
            f"refund {row.source_id} is in {row.currency} but its charge {row.charge_id} "
            f"is in {charge.currency}"
        )
    remaining = charge.amount - already
    if row.amount > remaining:
        return (
            f"refund {row.source_id} of {row.amount} {row.currency} exceeds the {remaining} "
            f"{row.currency} still refundable on charge {row.charge_id} "
            f"(charged {charge.amount}, refunded before {already})"
        )
    return None
