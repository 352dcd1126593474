"""Credit notes: the document routes, the invoices credited, and refunds."""

from __future__ import annotations

from typing import Any

from plugins.zoho_books.testing.standin.listing import page
from plugins.zoho_books.testing.standin.resources.documents import DocumentKind, document_routes
from plugins.zoho_books.testing.standin.routing import Answer, Call, Route, done

__all__ = ["CREDIT_NOTES", "ROUTES"]


def _create(call: Call, data: dict[str, Any]) -> Any:
    return call.org.create_creditnote(
        data,
        invoice_id=call.query.get("invoice_id"),
        own_number=call.query.get("ignore_auto_number_generation") == "true",
    )


CREDIT_NOTES = DocumentKind(
    collection="creditnotes",
    one="creditnote",
    what="Credit note",
    scope="creditnotes",
    table=lambda org: org.creditnotes,
    to_json=lambda org, note: org.creditnote_json(note),
    create=_create,
    created="The credit note has been created.",
    equal=("status", "customer_id"),
)


def invoices_credited(call: Call) -> Answer:
    org = call.org
    org.creditnote(call.record_id)
    rows = [
        org.applied_json(a)
        for a in org.credits_applied.values()
        if a.creditnote_id == call.record_id
    ]
    return done(invoices_credited=rows)


def apply_to_invoices(call: Call) -> Answer:
    applied = call.org.apply_credit(call.record_id, call.data())
    rows = [{"invoice_id": a.invoice_id, "amount_applied": a.amount} for a in applied]
    return done(
        "Credits have been applied to the invoice(s).", apply_to_invoices={"invoices": rows}
    )


def refunds_of(call: Call) -> Answer:
    org = call.org
    org.creditnote(call.record_id)
    rows = [org.refund_json(r) for r in org.refunds.values() if r.creditnote_id == call.record_id]
    return 200, page(rows, call.query, "creditnote_refunds")


def refund(call: Call) -> Answer:
    made = call.org.refund_creditnote(call.record_id, call.data())
    return done(
        "The credit note amount is refunded successfully.",
        201,
        creditnote_refund=call.org.refund_json(made),
    )


ROUTES = [
    *document_routes(CREDIT_NOTES),
    Route("GET", "/creditnotes/<record_id>/invoices", invoices_credited, "creditnotes",
          "invoices_credited"),
    Route("POST", "/creditnotes/<record_id>/invoices", apply_to_invoices, "creditnotes"),
    Route("GET", "/creditnotes/<record_id>/refunds", refunds_of, "creditnotes",
          "creditnote_refunds"),
    Route("POST", "/creditnotes/<record_id>/refunds", refund, "creditnotes"),
]  # fmt: skip
