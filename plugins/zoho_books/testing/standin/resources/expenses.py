"""Expenses: the document routes."""

from __future__ import annotations

from plugins.zoho_books.testing.standin.resources.documents import DocumentKind, document_routes

__all__ = ["EXPENSES", "ROUTES"]

EXPENSES = DocumentKind(
    collection="expenses",
    one="expense",
    what="Expense",
    scope="expenses",
    table=lambda org: org.expenses,
    to_json=lambda org, expense: org.expense_json(expense),
    create=lambda call, data: call.org.create_expense(data),
    created="The expense has been recorded.",
    dated=True,
)

ROUTES = document_routes(EXPENSES)
