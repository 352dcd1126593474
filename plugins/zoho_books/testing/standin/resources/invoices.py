"""Invoices: the document routes, marking one sent, its payments and credits applied to it."""

from __future__ import annotations

from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.resources.documents import DocumentKind, document_routes
from plugins.zoho_books.testing.standin.routing import Answer, Call, Route, done

__all__ = ["INVOICES", "ROUTES"]


def _create(call: Call, data: dict[str, Any]) -> Any:
    return call.org.create_invoice(data, send=call.query.get("send") == "true")


INVOICES = DocumentKind(
    collection="invoices",
    one="invoice",
    what="Invoice",
    scope="invoices",
    table=lambda org: org.invoices,
    to_json=lambda org, invoice: org.invoice_json(invoice),
    create=_create,
    created="The invoice has been created.",
    equal=("status", "customer_id"),
    dated=True,
)


def mark_sent(call: Call) -> Answer:
    call.org.mark_sent(call.record_id)
    return done("Invoice status has been changed to Sent.")


def update(call: Call) -> Answer:
    """zoho.invoice.update: ``PUT /invoices/{id}`` rewrites the invoice's lines."""
    invoice = call.org.update_invoice(call.record_id, call.data())
    return done("Invoice information has been updated.", invoice=call.org.invoice_json(invoice))


def payments_of(call: Call) -> Answer:
    """zoho.list_key.invoice_payments: the payments applied to one invoice."""
    org = call.org
    invoice = org.invoice(call.record_id)
    rows = [
        {
            "payment_id": p.payment_id,
            "invoice_payment_id": f"{p.payment_id}{n:02d}",
            "invoice_id": invoice.invoice_id,
            "payment_mode": p.payment_mode,
            "description": p.description,
            "date": p.date,
            "reference_number": p.reference_number,
            "exchange_rate": 1,
            "amount": share,
        }
        for p in org.payments.values()
        for n, (applied_to, share) in enumerate(p.applied)
        if applied_to == invoice.invoice_id
    ]
    return done(payments=rows)


def credits_of(call: Call) -> Answer:
    """zoho.list_key.invoice_credits_applied: the credits applied to one invoice."""
    org = call.org
    invoice = org.invoice(call.record_id)
    rows = [
        {
            "creditnote_id": a.creditnote_id,
            "creditnotes_invoice_id": a.creditnote_invoice_id,
            "creditnotes_number": org.creditnotes[a.creditnote_id].creditnote_number,
            "credited_date": a.date,
            "amount_applied": a.amount,
        }
        for a in org.credits_applied.values()
        if a.invoice_id == invoice.invoice_id
    ]
    return done(credits=rows)


def apply_credits(call: Call) -> Answer:
    """zoho.credit.apply_via_invoice: ``{"apply_creditnotes": [{creditnote_id,
    amount_applied}]}``, answered with ``use_credits.apply_creditnotes[]``."""
    org = call.org
    org.invoice(call.record_id)
    rows = call.data().get("apply_creditnotes")
    if not isinstance(rows, list) or not rows:
        raise ApiError(400, 4, "apply_creditnotes is mandatory.")
    applied = []
    for row in rows:
        if not isinstance(row, dict) or "creditnote_id" not in row:
            raise ApiError(400, 4, "creditnote_id is mandatory.")
        share = {"invoice_id": call.record_id, "amount_applied": row.get("amount_applied")}
        applied.extend(org.apply_credit(str(row["creditnote_id"]), {"invoices": [share]}))
    answer = [
        {
            "amount_applied": a.amount,
            "creditnote_id": a.creditnote_id,
            "creditnotes_invoice_id": a.creditnote_invoice_id,
            "date": a.date,
            "invoice_id": a.invoice_id,
        }
        for a in applied
    ]
    return done(
        "Credits have been applied to the invoice(s).",
        use_credits={"apply_creditnotes": answer, "invoice_payments": []},
    )


ROUTES = [
    *document_routes(INVOICES),
    Route("PUT", "/invoices/<record_id>", update, "invoices"),
    Route("POST", "/invoices/<record_id>/status/sent", mark_sent, "invoices"),
    Route("GET", "/invoices/<record_id>/payments", payments_of, "invoices", "payments"),
    Route("GET", "/invoices/<record_id>/creditsapplied", credits_of, "invoices", "credits"),
    Route("POST", "/invoices/<record_id>/credits", apply_credits, "invoices"),
]
