"""Verified writes: a created (or found) record must be what was asked.

Zoho may accept a document and record something else: the item's default tax added to a line
sent without ``tax_id`` (zoho.tax.item_default_applied), another currency, a rounded amount.
Every create answer, and every record found again by key, is compared with the request on
total, currency, date, customer, account and status; a difference rejects the document with
one line naming it, so nothing that depends on it (a payment of the HitPay amount on an
invoice whose total differs) is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from core.api import DocumentRejected

__all__ = ["verify"]


def _decimal(value: Any) -> Decimal | None:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _tax_cause(answer: Mapping[str, Any], name: str) -> str:
    """Why a total grew, when Zoho says it added tax the request did not ask for."""
    tax_total = _decimal(answer.get("tax_total"))
    if not tax_total:
        return ""
    names = sorted(
        {
            str(line.get("tax_name"))
            for line in answer.get("line_items") or []
            if line.get("tax_name")
        }
    )
    named = " and ".join(names) or "a tax"
    return (
        f"Zoho added {named} ({tax_total}) from the item's default tax: set a tax with "
        f"`ledgersync settings {name} --tax TAX_ID` (`ledgersync zoho taxes {name}` lists them)"
    )


def verify(
    what: str,
    key: str,
    asked: Mapping[str, Any],
    answer: Mapping[str, Any],
    *,
    connection_name: str,
    record: str,
) -> None:
    """Raise DocumentRejected when ``answer`` differs from ``asked`` on a field both have.

    ``asked`` maps answer fields to the value requested (amounts as Decimal); ``record`` names
    the record in Zoho Books for the user (e.g. ``invoice INV-000012``)."""
    differences = []
    for field, wanted in asked.items():
        if field not in answer or answer[field] is None:
            continue
        got = answer[field]
        if isinstance(wanted, Decimal):
            same = _decimal(got) == wanted
        elif isinstance(wanted, (set, frozenset)):
            same = str(got) in wanted
        else:
            same = str(got) == str(wanted)
        if not same:
            shown = "/".join(sorted(wanted)) if isinstance(wanted, (set, frozenset)) else wanted
            differences.append(f"{field} {got} instead of {shown}")
    if not differences:
        return
    cause = _tax_cause(answer, connection_name) if "total" in asked else ""
    kept = (
        f"{record} stays a draft in Zoho Books: after the fix, `ledgersync retry "
        f"{connection_name} --all-failed` corrects it in place and sends it"
        if answer.get("status") == "draft"
        else f"{record} stays in Zoho Books for you to check: delete it there (a voided one "
        f"would be found again), then `ledgersync retry {connection_name} --all-failed` books it "
        "anew"
    )
    raise DocumentRejected(
        f"{key}: Zoho Books recorded {what} with {', '.join(differences)}"
        + (f"; {cause}." if cause else "."),
        f"Nothing that depends on it was sent; {kept}.",
    )
