"""The books of the stand-in's organizations, and the rules Zoho Books enforces on them.

An :class:`Organization` is built up in layers, one module each: ``chart.py`` (settings and
look-ups), ``sales.py`` (invoices, payments), ``credits.py`` (expenses, credit notes, upsert);
this module adds the normalized summary tests compare. The records are in ``records.py``, the
checks and codes in ``rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.credits import Credits
from plugins.zoho_books.testing.standin.records import (
    Account,
    Contact,
    CreditApplied,
    CreditNote,
    CreditRefund,
    Currency,
    Expense,
    Invoice,
    Item,
    Line,
    Payment,
)

# The records are imported from here too (tests build or inspect them).
__all__ = [
    "Account",
    "Contact",
    "CreditApplied",
    "CreditNote",
    "CreditRefund",
    "Currency",
    "Expense",
    "Invoice",
    "Item",
    "Line",
    "Organization",
    "Payment",
]


class Organization(Credits):
    """One organization's settings and books. The caller holds the stand-in's lock."""

    # -- the normalized summary tests compare ----------------------------------------------

    def books(self) -> dict[str, Any]:
        code = {cid: c.currency_code for cid, c in self.currencies.items()}
        inv_ref = {i.invoice_id: i.reference_number for i in self.invoices.values()}
        cn_ref = {n.creditnote_id: n.reference_number for n in self.creditnotes.values()}

        def ordered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(rows, key=lambda row: (row.get("reference_number") or "", row["id"]))

        bank: dict[str, dict[str, Decimal]] = {}

        def move(account_id: str, currency_id: str, amount: Decimal) -> None:
            per_currency = bank.setdefault(account_id, {})
            currency = code[currency_id]
            per_currency[currency] = per_currency.get(currency, Decimal(0)) + amount

        from plugins.zoho_books.testing.standin.banking import journal_json, postings, transfer_json

        for account_id, currency_id, amount in postings(self):
            move(account_id, currency_id, amount)
        payouts = {
            "transfers": ordered(
                {"id": t["transaction_id"], **t}
                for t in map(lambda t: transfer_json(self, t), self.banktransactions.values())
            ),
            "journals": ordered(
                {"id": j["journal_id"], **j}
                for j in map(lambda j: journal_json(self, j), self.journals.values())
            ),
        }
        return {
            **{name: rows for name, rows in payouts.items() if rows},
            "invoices": ordered(
                {
                    "id": i.invoice_id,
                    "reference_number": i.reference_number,
                    "amount": i.total,
                    "balance": i.balance,
                    "currency": code[i.currency_id],
                    "status": i.status,
                    "date": i.date,
                    "accounts": [line.account_id for line in i.lines],
                    "items": [line.item_id for line in i.lines],
                    "exchange_rate": i.exchange_rate,
                    "emailed": i.emailed,
                }
                for i in self.invoices.values()
            ),
            "payments": ordered(
                {
                    "id": p.payment_id,
                    "reference_number": p.reference_number,
                    "amount": p.amount,
                    "currency": code[p.currency_id],
                    "date": p.date,
                    "account_id": p.account_id,
                    "invoices": [(inv_ref[i], share) for i, share in p.applied],
                }
                for p in self.payments.values()
            ),
            "expenses": ordered(
                {
                    "id": e.expense_id,
                    "reference_number": e.reference_number,
                    "amount": e.amount,
                    "currency": code[e.currency_id],
                    "date": e.date,
                    "account_id": e.account_id,
                    "paid_through_account_id": e.paid_through_account_id,
                }
                for e in self.expenses.values()
            ),
            "credit_notes": ordered(
                {
                    "id": n.creditnote_id,
                    "reference_number": n.reference_number,
                    "amount": n.total,
                    "balance": n.balance,
                    "currency": code[n.currency_id],
                    "status": n.status,
                    "date": n.date,
                    "accounts": [line.account_id for line in n.lines],
                    "invoice": inv_ref.get(n.invoice_id or ""),
                }
                for n in self.creditnotes.values()
            ),
            "credit_refunds": ordered(
                {
                    "id": r.creditnote_refund_id,
                    "reference_number": r.reference_number,
                    "amount": r.amount,
                    "currency": code[self.creditnotes[r.creditnote_id].currency_id],
                    "date": r.date,
                    "from_account_id": r.from_account_id,
                    "credit_note": cn_ref[r.creditnote_id],
                }
                for r in self.refunds.values()
            ),
            "credits_applied": ordered(
                {
                    "id": a.creditnote_invoice_id,
                    "reference_number": None,
                    "amount": a.amount,
                    "currency": code[self.creditnotes[a.creditnote_id].currency_id],
                    "credit_note": cn_ref[a.creditnote_id],
                    "invoice": inv_ref[a.invoice_id],
                }
                for a in self.credits_applied.values()
            ),
            "contacts": sorted(
                (c.contact_name, code[c.currency_id]) for c in self.contacts.values()
            ),
            "bank_balances": bank,
        }
