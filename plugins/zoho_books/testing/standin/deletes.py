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
balance back. The caller holds the stand-in's lock. :class:`DeleteHandlers` is mixed into the
stand-in server; :func:`rules` adds its routes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from plugins.zoho_books.testing.standin.errors import ApiError

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.state import Invoice, Organization

__all__ = ["DeleteHandlers", "DeleteRules", "rules"]

NOT_FOUND = 1002
DELETE_REFUSED = 9110  # the real code is NOT FOUND in the evidence: any non-zero code


@dataclass
class DeleteRules:
    """The switches of one organization's delete behaviour."""

    matched: set[str] = field(default_factory=set)  # ids a person matched to a bank-feed line
    locked_until: str | None = None  # ISO date: documents dated on or before it are locked
    refusal_status: int = 400  # HTTP status of a refusal (Zoho's varies: 400 or 200)
    creditnote_cascade: bool = False  # a credit note's refunds and applications go with it


def rules(rule: Callable[..., Rule]) -> Iterator[Rule]:
    yield rule("/invoices/<record_id>", "delete_invoice", "DELETE")
    yield rule("/customerpayments/<record_id>", "delete_payment", "DELETE")
    yield rule("/expenses/<record_id>", "delete_expense", "DELETE")
    yield rule("/creditnotes/<record_id>", "delete_creditnote", "DELETE")
    yield rule("/creditnotes/<record_id>/refunds/<item_id>", "delete_refund", "DELETE")
    yield rule("/creditnotes/<record_id>/invoices/<item_id>", "delete_applied", "DELETE")
    yield rule("/banktransactions/<record_id>", "delete_banktransaction", "DELETE")
    yield rule("/journals/<record_id>", "delete_journal", "DELETE")


def _done(message: str) -> Response:
    return Response(json.dumps({"code": 0, "message": message}), 200, mimetype="application/json")


def _reopen(invoice: Invoice) -> None:
    if invoice.status in ("paid", "partially_paid"):
        invoice.status = "sent" if invoice.balance == invoice.total else "partially_paid"


class DeleteHandlers:
    """The DELETE endpoints (mixed into ZohoBooksStandIn; handlers run under its lock)."""

    _delete_rules: dict[str, DeleteRules]

    def delete_rules(self, organization_id: str) -> DeleteRules:
        """The switches of ``organization_id`` (tests set ``matched``, ``locked_until``...)."""
        if not hasattr(self, "_delete_rules"):
            self._delete_rules = {}
        return self._delete_rules.setdefault(organization_id, DeleteRules())

    def _refuse(self, org: Organization, message: str) -> ApiError:
        return ApiError(
            self.delete_rules(org.organization_id).refusal_status, DELETE_REFUSED, message
        )

    def _check(self, org: Organization, record_id: str, day: str, what: str) -> None:
        rules = self.delete_rules(org.organization_id)
        if record_id in rules.matched:
            raise self._refuse(
                org,
                f"You cannot delete a {what} which is already Matched or Categorized "
                "with a bank transaction.",
            )
        if rules.locked_until is not None and day <= rules.locked_until:
            raise self._refuse(
                org, f"Transactions dated on or before {rules.locked_until} are locked."
            )

    @staticmethod
    def _gone(table: dict[str, Any], record_id: str, what: str) -> Any:
        found = table.get(record_id)
        if found is None:
            raise ApiError(404, NOT_FOUND, f"{what} does not exist.")
        return found

    def _do_delete_invoice(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        invoice = self._gone(org.invoices, record_id, "Invoice")
        self._check(org, record_id, invoice.date, "invoice")
        paid = any(record_id == i for p in org.payments.values() for i, _ in p.applied)
        credited = any(a.invoice_id == record_id for a in org.credits_applied.values())
        if paid or credited:
            raise self._refuse(
                org, "Invoices which have payment or credits note applied cannot be deleted."
            )
        del org.invoices[record_id]
        return _done("The invoice has been deleted.")

    def _do_delete_payment(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        payment = self._gone(org.payments, record_id, "Payment")
        self._check(org, record_id, payment.date, "payment")
        for invoice_id, share in payment.applied:
            invoice = org.invoices.get(invoice_id)
            if invoice is not None:
                invoice.balance += share
                _reopen(invoice)
        del org.payments[record_id]
        return _done("The payment has been deleted.")

    def _do_delete_expense(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        expense = self._gone(org.expenses, record_id, "Expense")
        self._check(org, record_id, expense.date, "expense")
        del org.expenses[record_id]
        return _done("The expense has been deleted.")

    def _do_delete_creditnote(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        note = self._gone(org.creditnotes, record_id, "Credit note")
        self._check(org, record_id, note.date, "credit note")
        refunds = [r for r in org.refunds.values() if r.creditnote_id == record_id]
        applied = [a for a in org.credits_applied.values() if a.creditnote_id == record_id]
        if refunds or applied:
            if not self.delete_rules(org.organization_id).creditnote_cascade:
                raise self._refuse(
                    org, "Credit notes which have refunds or credits applied cannot be deleted."
                )
            for refund in refunds:
                del org.refunds[refund.creditnote_refund_id]
            for application in applied:
                self._unapply(org, application.creditnote_invoice_id)
        del org.creditnotes[record_id]
        return _done("The credit note has been deleted.")

    def _do_delete_refund(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str, item_id: str
    ) -> Response:
        note = self._gone(org.creditnotes, record_id, "Credit note")
        refund = self._gone(org.refunds, item_id, "Refund")
        if refund.creditnote_id != record_id:
            raise ApiError(404, NOT_FOUND, "Refund does not exist.")
        self._check(org, item_id, refund.date, "refund")
        note.balance += refund.amount
        note.status = "open"
        del org.refunds[item_id]
        return _done("The refund has been deleted.")

    def _do_delete_applied(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str, item_id: str
    ) -> Response:
        self._gone(org.creditnotes, record_id, "Credit note")
        applied = self._gone(org.credits_applied, item_id, "Credit")
        if applied.creditnote_id != record_id:
            raise ApiError(404, NOT_FOUND, "Credit does not exist.")
        self._unapply(org, item_id)
        return _done("Credits applied to an invoice have been deleted.")

    @staticmethod
    def _unapply(org: Organization, applied_id: str) -> None:
        applied = org.credits_applied.pop(applied_id)
        note = org.creditnotes[applied.creditnote_id]
        note.balance += applied.amount
        note.status = "open"
        invoice = org.invoices.get(applied.invoice_id)
        if invoice is not None:
            invoice.balance += applied.amount
            _reopen(invoice)

    def _do_delete_banktransaction(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        transaction = self._gone(org.banktransactions, record_id, "Transaction")
        self._check(org, record_id, transaction.date, "transaction")
        del org.banktransactions[record_id]
        return _done("The transaction has been deleted.")

    def _do_delete_journal(
        self, org: Organization, query: Any, body: Any, headers: Any, record_id: str
    ) -> Response:
        journal = self._gone(org.journals, record_id, "Journal")
        self._check(org, record_id, journal.journal_date, "journal")
        del org.journals[record_id]
        return _done("The journal has been deleted.")
