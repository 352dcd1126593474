"""Deleting what was delivered (``ledgersync rollback``), one Zoho endpoint per kind.

zoho.delete.endpoints: ``DELETE /invoices/{id}``, ``/customerpayments/{id}``,
``/expenses/{id}``, ``/creditnotes/{id}``, ``/creditnotes/{id}/refunds/{refund id}`` (a credit
refund) or ``/creditnotes/{id}/invoices/{creditnote_invoice_id}`` (credit applied to the
invoice instead), ``/banktransactions/{id}`` (a payout transfer), ``/journals/{id}`` (a payout
adjustment). Code 1002 ("does not exist") means already gone: done. Any other refusal
(zoho.delete.invoice_with_payments_refused, zoho.delete.bank_matched_refused, a locked
period) is final: the document stays, with Zoho's message. It never voids
(zoho.void.unassociates: a void leaves the payment alive as unused customer credit).
"""

from __future__ import annotations

import logging

from core.api import CreditRefund, DeletionRefused, DeliveryContext, Document, DocumentKind
from plugins.zoho_books.client import NOT_FOUND, BooksClient, BooksRejected

__all__ = ["DELETABLE_KINDS", "delete_document"]

log = logging.getLogger(__name__)

_PATHS: dict[DocumentKind, str] = {
    DocumentKind.INVOICE: "/invoices/{id}",
    DocumentKind.PAYMENT: "/customerpayments/{id}",
    DocumentKind.EXPENSE: "/expenses/{id}",
    DocumentKind.CREDIT_NOTE: "/creditnotes/{id}",
    DocumentKind.TRANSFER: "/banktransactions/{id}",
    DocumentKind.ADJUSTMENT: "/journals/{id}",
}
DELETABLE_KINDS = frozenset({kind.value for kind in _PATHS} | {DocumentKind.CREDIT_REFUND.value})


def _delete(client: BooksClient, path: str) -> bool:
    """True when Zoho deleted it now, False when it did not exist (already gone)."""
    try:
        client.request("DELETE", path)
    except BooksRejected as refused:
        if refused.code == NOT_FOUND:
            return False
        raise DeletionRefused(refused.message) from None
    return True


def delete_document(
    client: BooksClient, remote_id: str, document: Document, context: DeliveryContext
) -> None:
    """Delete ``document`` (``remote_id``) from the organization; gone already is done."""
    if isinstance(document, CreditRefund):
        credit_note_id = context.remote_ids.get(document.credit_note_key)
        if not credit_note_id:
            raise DeletionRefused(
                f"{document.key}: the credit note it belongs to is not known.",
                "Delete the refund in Zoho Books by hand.",
            )
        if _delete(client, f"/creditnotes/{credit_note_id}/refunds/{remote_id}"):
            return
        # Not a refund: the credit may have been applied to the invoice instead.
        _delete(client, f"/creditnotes/{credit_note_id}/invoices/{remote_id}")
        return
    path = _PATHS[document.kind].format(id=remote_id)
    if not _delete(client, path):
        log.info("%s (%s) was already gone", document.key, remote_id)
