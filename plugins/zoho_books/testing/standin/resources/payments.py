"""Customer payments: the document routes; the list key is the stand-in's variant."""

from __future__ import annotations

from plugins.zoho_books.testing.standin.resources.documents import DocumentKind, document_routes

__all__ = ["PAYMENTS", "ROUTES"]

PAYMENTS = DocumentKind(
    collection="customerpayments",
    one="payment",
    what="Payment",
    scope="customerpayments",
    table=lambda org: org.payments,
    to_json=lambda org, payment: org.payment_json(payment),
    create=lambda call, data: call.org.create_payment(data),
    created="The payment has been created.",
    equal=("customer_id",),
    list_key_varies=True,  # zoho.list_key.customer_payments
)

ROUTES = document_routes(PAYMENTS)
