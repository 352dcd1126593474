"""The daily groupings Individual mode can use instead of a document per charge.

``fees=daily``: one expense per business-local day and fee currency for the fees of that
day's charges, key ``<source>:day:<date>:fees:<CUR>:<n>:expense`` (the key Bulk gives its
daily fees, so a day is never booked twice whichever mode planned it).

``payments=daily``: one customer payment per business-local day and currency, applied to each
of that day's invoices (``invoices[]`` of the payment, one amount each), key
``<source>:day:<date>:payments:<CUR>:<n>:payment``. A payment settles at most
:data:`MAX_INVOICES_PER_PAYMENT` invoices; a busier day gets several (``:2``...).

``<n>`` is the lowest free sequence number: the first group of a day is ``:1``; what a later
sync finds for the same day (the day was still open, or a charge arrived late) goes into a
supplement ``:2``, ``:3``..., never into a rewrite of a planned document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from core.contracts import MappingContext
from core.documents import Expense, Payment
from core.mapping.keys import next_sequence
from core.records import Charge

__all__ = [
    "CHARGE",
    "DAILY",
    "GROUPING_OPTIONS",
    "MAX_INVOICES_PER_PAYMENT",
    "daily_fees",
    "daily_payments",
    "grouping_options",
]

DAILY = "daily"
CHARGE = "charge"  # the default: one document per charge
GROUPING_OPTIONS = ("fees", "payments")  # connection settings, each CHARGE or DAILY
# No limit on a payment's invoices is documented; a bounded list keeps each request (and
# a look-up after an uncertain attempt) small. 100 invoices cost one extra call a day at most.
MAX_INVOICES_PER_PAYMENT = 100


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _supplement(sequence: int) -> str:
    return "" if sequence == 1 else f" (supplement {sequence})"


def _order(charge: Charge) -> tuple[datetime, str]:
    """Groups list their charges in this order, whatever order the mapper was given (in UTC:
    PEP 495 makes an ambiguous local time unequal to every time in another zone)."""
    return charge.created_at.astimezone(UTC), charge.source_id


def daily_fees(
    day: date, currency: str, charges: Sequence[Charge], context: MappingContext, emitted: set[str]
) -> Expense:
    """One expense for the fees of ``charges`` (all of ``day``, fees in ``currency``)."""
    charges = sorted(charges, key=_order)
    stem = f"{context.source}:day:{day.isoformat()}:fees:{currency}"
    sequence = next_sequence(stem, "expense", context.taken_keys, emitted)
    key = f"{stem}:{sequence}:expense"
    emitted.add(key)
    return Expense(
        key=key,
        date=day,
        currency=currency,
        amount=sum((charge.fee for charge in charges), Decimal(0)),
        record_ids=tuple(charge.source_id for charge in charges),
        description=f"Gateway fees of {day.isoformat()} in {currency}: "
        f"{_plural(len(charges), 'charge')}{_supplement(sequence)}",
    )


def daily_payments(
    day: date,
    currency: str,
    invoices: Sequence[tuple[str, Charge]],
    context: MappingContext,
    emitted: set[str],
) -> Iterator[Payment]:
    """Payments settling ``invoices`` (invoice key, charge), all of ``day`` in ``currency``."""
    invoices = sorted(invoices, key=lambda pair: _order(pair[1]))
    stem = f"{context.source}:day:{day.isoformat()}:payments:{currency}"
    for start in range(0, len(invoices), MAX_INVOICES_PER_PAYMENT):
        part = invoices[start : start + MAX_INVOICES_PER_PAYMENT]
        sequence = next_sequence(stem, "payment", context.taken_keys, emitted)
        key = f"{stem}:{sequence}:payment"
        emitted.add(key)
        amounts = tuple(charge.amount for _invoice, charge in part)
        invoice_keys = tuple(invoice for invoice, _charge in part)
        yield Payment(
            key=key,
            date=day,
            currency=currency,
            amount=sum(amounts, Decimal(0)),
            record_ids=tuple(charge.source_id for _invoice, charge in part),
            description=f"Payments of {day.isoformat()} in {currency}: "
            f"{_plural(len(part), 'charge')}{_supplement(sequence)}",
            invoice_key=invoice_keys[0],
            invoice_keys=invoice_keys,
            applied_amounts=amounts,
        )


def grouping_options(extra: object) -> dict[str, str]:
    """The connection's grouping options from its settings' ``extra`` (default CHARGE)."""
    found: Mapping[str, object] = extra if isinstance(extra, Mapping) else {}
    return {name: DAILY if found.get(name) == DAILY else CHARGE for name in GROUPING_OPTIONS}
