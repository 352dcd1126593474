"""Expenses (the gateway's fees): on the fee account, paid through the clearing account."""

from __future__ import annotations

from typing import Any

from core.api import DeliveryContext, Expense
from plugins.zoho_books.writing import EXPENSES, Books

__all__ = ["Expenses"]


class Expenses:
    """Writes expenses and finds an earlier attempt's by reference."""

    def __init__(self, books: Books) -> None:
        self._books = books

    def deliver(self, document: Expense, context: DeliveryContext) -> str:
        books = self._books
        currency = books.currency(document)
        body: dict[str, Any] = {
            "account_id": books.setting(context.settings, "fee_account"),
            "paid_through_account_id": books.setting(
                context.settings, "bank_account", document.currency
            ),
            "date": document.date.isoformat(),
            "amount": document.amount,
            "currency_id": currency.currency_id,
            "reference_number": document.key,
        }
        if document.description:
            body["description"] = document.description[:100]
        books.with_rate(body, document, currency)
        expense = books.create(EXPENSES, body, document.key)
        asked = {
            "total": document.amount,
            "currency_id": currency.currency_id,
            "date": body["date"],
            "account_id": body["account_id"],
            "paid_through_account_id": body["paid_through_account_id"],
        }
        record = f"expense {expense.get('expense_id')}"
        books.verify("the expense", document.key, asked, expense, record)
        return str(expense["expense_id"])

    def find(self, document: Expense, context: DeliveryContext) -> str | None:
        return self._books.find_by_reference(EXPENSES, document.key)
