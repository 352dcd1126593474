"""Deleting in the stand-in, with Zoho's order rules (docs/vendor-facts.md, section N).

- zoho.delete.endpoints: ``DELETE`` on invoices, customer payments, expenses, credit notes,
  a credit note's refunds and its applications to invoices, bank transactions and journals;
  ``code: 0`` when done, 1002 for an id that does not exist (already gone).
- zoho.delete.invoice_with_payments_refused: an invoice with payments or applied credits is
  refused (HTTP 400 by default; ``refusal_status=200`` answers the same refusal with HTTP 200).
- zoho.delete.creditnote_with_refunds: a credit note with refunds or applications is refused
  by default; ``creditnote_cascade=True`` deletes them with it.
- zoho.delete.bank_matched_refused: a document marked ``matched`` (a person matched it to a
  bank-feed line) is refused; so is one dated in a locked period (``locked_until``).

Deleting a payment, a refund or an application gives the invoice and the credit note their
balance back. The switches are per organization: ``ZohoBooksStandIn.delete_rules(org_id)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.routing import Answer, Call, Handler, Route, done

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.records import Invoice
    from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["ROUTES", "DeleteRules"]

NOT_FOUND = 1002
DELETE_REFUSED = 9110  # the real code is NOT FOUND in the evidence: any non-zero code


@dataclass
class DeleteRules:
    """The switches of one organization's delete behaviour."""

    matched: set[str] = field(default_factory=set)  # ids a person matched to a bank-feed line
    locked_until: str | None = None  # ISO date: documents dated on or before it are locked
    lock_date_included: bool = True  # zoho.delete.locked_period: False locks only before it
    refusal_status: int = 400  # HTTP status of a refusal (Zoho's varies: 400 or 200)
    creditnote_cascade: bool = False  # a credit note's refunds and applications go with it


def _reopen(invoice: Invoice) -> None:
    if invoice.status in ("paid", "partially_paid"):
        invoice.status = "sent" if invoice.balance == invoice.total else "partially_paid"


def _refuse(call: Call, message: str) -> ApiError:
    rules = call.standin.delete_rules(call.org.organization_id)
    return ApiError(rules.refusal_status, DELETE_REFUSED, message)


def _check(call: Call, record_id: str, day: str, what: str) -> None:
    rules = call.standin.delete_rules(call.org.organization_id)
    if record_id in rules.matched:
        raise _refuse(
            call,
            f"You cannot delete a {what} which is already Matched or Categorized "
            "with a bank transaction.",
        )
    locked = rules.locked_until
    if locked is not None and (day < locked or (rules.lock_date_included and day == locked)):
        raise _refuse(call, f"Transactions are locked up to {locked}; they cannot be deleted.")


def _gone(table: dict[str, Any], record_id: str, what: str) -> Any:
    found = table.get(record_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, f"{what} does not exist.")
    return found


def _unapply(org: Organization, applied_id: str) -> None:
    applied = org.credits_applied.pop(applied_id)
    note = org.creditnotes[applied.creditnote_id]
    note.balance += applied.amount
    note.status = "open"
    invoice = org.invoices.get(applied.invoice_id)
    if invoice is not None:
        invoice.balance += applied.amount
        _reopen(invoice)


def delete_invoice(call: Call) -> Answer:
    org, record_id = call.org, call.record_id
    invoice = _gone(org.invoices, record_id, "Invoice")
    _check(call, record_id, invoice.date, "invoice")
    paid = any(record_id == i for p in org.payments.values() for i, _ in p.applied)
    credited = any(a.invoice_id == record_id for a in org.credits_applied.values())
    if paid or credited:
        raise _refuse(
            call, "Invoices which have payment or credits note applied cannot be deleted."
        )
    del org.invoices[record_id]
    return done("The invoice has been deleted.")


def delete_payment(call: Call) -> Answer:
    org, record_id = call.org, call.record_id
    payment = _gone(org.payments, record_id, "Payment")
    _check(call, record_id, payment.date, "payment")
    for invoice_id, share in payment.applied:
        invoice = org.invoices.get(invoice_id)
        if invoice is not None:
            invoice.balance += share
            _reopen(invoice)
    del org.payments[record_id]
    return done("The payment has been deleted.")


def delete_creditnote(call: Call) -> Answer:
    org, record_id = call.org, call.record_id
    note = _gone(org.creditnotes, record_id, "Credit note")
    _check(call, record_id, note.date, "credit note")
    refunds = [r for r in org.refunds.values() if r.creditnote_id == record_id]
    applied = [a for a in org.credits_applied.values() if a.creditnote_id == record_id]
    if refunds or applied:
        if not call.standin.delete_rules(org.organization_id).creditnote_cascade:
            raise _refuse(
                call, "Credit notes which have refunds or credits applied cannot be deleted."
            )
        for refund in refunds:
            del org.refunds[refund.creditnote_refund_id]
        for application in applied:
            _unapply(org, application.creditnote_invoice_id)
    del org.creditnotes[record_id]
    return done("The credit note has been deleted.")


def delete_refund(call: Call) -> Answer:
    org, record_id, item_id = call.org, call.record_id, call.values["item_id"]
    note = _gone(org.creditnotes, record_id, "Credit note")
    refund = _gone(org.refunds, item_id, "Refund")
    if refund.creditnote_id != record_id:
        raise ApiError(404, NOT_FOUND, "Refund does not exist.")
    _check(call, item_id, refund.date, "refund")
    note.balance += refund.amount
    note.status = "open"
    del org.refunds[item_id]
    return done("The refund has been deleted.")


def delete_applied(call: Call) -> Answer:
    org, record_id, item_id = call.org, call.record_id, call.values["item_id"]
    _gone(org.creditnotes, record_id, "Credit note")
    applied = _gone(org.credits_applied, item_id, "Credit")
    if applied.creditnote_id != record_id:
        raise ApiError(404, NOT_FOUND, "Credit does not exist.")
    _unapply(org, item_id)
    return done("Credits applied to an invoice have been deleted.")


def _delete_alone(table: str, what: str, dated_by: str, message: str) -> Handler:
    """An expense, a bank transaction or a journal: nothing depends on it."""

    def handle(call: Call) -> Answer:
        records: dict[str, Any] = getattr(call.org, table)
        record = _gone(records, call.record_id, what)
        _check(call, call.record_id, getattr(record, dated_by), what.lower())
        del records[call.record_id]
        return done(message)

    return handle


delete_expense = _delete_alone("expenses", "Expense", "date", "The expense has been deleted.")
delete_transfer = _delete_alone(
    "banktransactions", "Transaction", "date", "The transaction has been deleted."
)
delete_journal = _delete_alone(
    "journals", "Journal", "journal_date", "The journal has been deleted."
)

ROUTES = [
    Route("DELETE", "/invoices/<record_id>", delete_invoice, "invoices"),
    Route("DELETE", "/customerpayments/<record_id>", delete_payment, "customerpayments"),
    Route("DELETE", "/expenses/<record_id>", delete_expense, "expenses"),
    Route("DELETE", "/creditnotes/<record_id>", delete_creditnote, "creditnotes"),
    Route("DELETE", "/creditnotes/<record_id>/refunds/<item_id>", delete_refund, "creditnotes"),
    Route("DELETE", "/creditnotes/<record_id>/invoices/<item_id>", delete_applied, "creditnotes"),
    Route("DELETE", "/banktransactions/<record_id>", delete_transfer, "banking"),
    Route("DELETE", "/journals/<record_id>", delete_journal, "accountants"),
]
