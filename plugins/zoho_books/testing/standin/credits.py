"""Expenses, credit notes (applied and refunded), and the upsert by a unique field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.records import (
    CreditApplied,
    CreditNote,
    CreditRefund,
    Expense,
    Invoice,
    _custom_fields,
    _tax_json,
    _totals,
)
from plugins.zoho_books.testing.standin.rules import (
    CREDIT_LINE_TYPES,
    CREDIT_NOT_OPEN,
    DEPOSIT_TYPES,
    EXPENSE_TYPES,
    INVOICE_NOT_OPEN,
    MANDATORY,
    NOT_FOUND,
    OVER_BALANCE,
    PAID_THROUGH_TYPES,
    PAYMENT_MODES,
    STATUS,
    UNIQUE_FIELD,
    _bad,
    _date,
    _reference,
    _require,
)
from plugins.zoho_books.testing.standin.sales import Sales

__all__ = ["Credits"]


class Credits(Sales):
    """An organization's expenses and credit notes, on top of its sales."""

    # -- expenses -----------------------------------------------------------------------

    def create_expense(self, body: dict[str, Any]) -> Expense:
        _require(body, "account_id", "date", "amount", "paid_through_account_id")
        self.account(body["account_id"], EXPENSE_TYPES, "expense account")
        self.account(body["paid_through_account_id"], PAID_THROUGH_TYPES, "paid through account")
        currency = self.currency_by_id(body.get("currency_id") or self.base_currency().currency_id)
        description = str(body.get("description") or "")
        if len(description) > 100:
            raise _bad("description can have at most 100 characters.")
        if "exchange_rate" in body:
            self._exchange_rate(body, currency)
        expense = Expense(
            expense_id=self.new_id(),
            account_id=str(body["account_id"]),
            paid_through_account_id=str(body["paid_through_account_id"]),
            currency_id=currency.currency_id,
            date=_date(body["date"]),
            amount=self._amount(body["amount"], "amount", currency),
            reference_number=_reference(body),
            description=description,
        )
        self.expenses[expense.expense_id] = expense
        return expense

    def expense_json(self, expense: Expense) -> dict[str, Any]:
        return {
            "expense_id": expense.expense_id,
            "account_id": expense.account_id,
            "paid_through_account_id": expense.paid_through_account_id,
            "currency_id": expense.currency_id,
            "currency_code": self.currency_by_id(expense.currency_id).currency_code,
            "date": expense.date,
            "amount": expense.amount,
            "total": expense.amount,
            "reference_number": expense.reference_number,
            "description": expense.description,
            "status": "nonbillable",
            "custom_fields": _custom_fields(expense.custom_fields),
        }

    # -- credit notes -------------------------------------------------------------------

    def create_creditnote(
        self, body: dict[str, Any], *, invoice_id: str | None, own_number: bool
    ) -> CreditNote:
        _require(body, "customer_id", "date", "line_items")
        if own_number:
            _require(body, "creditnote_number")
        contact = self.customer(body["customer_id"])
        currency = self._currency_for(body, contact, "credit note")
        lines = self._lines(body, currency, CREDIT_LINE_TYPES, item_required=False)
        inclusive = body.get("is_inclusive_tax") is True
        total, _ = _totals(lines, inclusive)
        if total <= 0:
            raise _bad("The credit note total must be greater than zero.")
        if invoice_id is not None:
            invoice = self.invoice(invoice_id)
            if invoice.customer_id != contact.contact_id:
                raise _bad("The invoice belongs to another customer.")
            if invoice.status in ("draft", "void"):
                raise _bad(
                    f"A credit note cannot be raised against a {invoice.status} invoice.",
                    INVOICE_NOT_OPEN,
                )
        self._exchange_rate(body, currency)
        number = str(body.get("creditnote_number") or f"CN-{len(self.creditnotes) + 1:06d}")
        note = CreditNote(
            creditnote_id=self.new_id(),
            creditnote_number=number,
            customer_id=contact.contact_id,
            currency_id=currency.currency_id,
            date=_date(body["date"]),
            reference_number=_reference(body),
            lines=lines,
            total=total,
            balance=total,
            invoice_id=str(invoice_id) if invoice_id is not None else None,
            is_inclusive_tax=inclusive,
        )
        self.creditnotes[note.creditnote_id] = note
        return note

    def creditnote(self, creditnote_id: str) -> CreditNote:
        note: CreditNote = self._get(self.creditnotes, creditnote_id, "Credit note")
        return note

    def creditnote_json(self, note: CreditNote) -> dict[str, Any]:
        return {
            "creditnote_id": note.creditnote_id,
            "creditnote_number": note.creditnote_number,
            "customer_id": note.customer_id,
            "currency_id": note.currency_id,
            "currency_code": self.currency_by_id(note.currency_id).currency_code,
            "date": note.date,
            "reference_number": note.reference_number,
            "status": note.status,
            "total": note.total,
            **_tax_json(note.lines, note.is_inclusive_tax),
            "balance": note.balance,
            "line_items": [
                line.to_json(f"{note.creditnote_id}{n}") for n, line in enumerate(note.lines)
            ],
            # the invoices the credit note was raised for (POST ?invoice_id=)
            "invoices": [
                {
                    "invoice_id": note.invoice_id,
                    "invoice_number": self.invoices[note.invoice_id].invoice_number,
                    "amount": note.total,
                }
            ]
            if note.invoice_id is not None
            else [],
            "custom_fields": _custom_fields(note.custom_fields),
        }

    def _use_credit(self, note: CreditNote, amount: Decimal) -> None:
        note.balance -= amount
        if note.balance == 0:
            note.status = "closed"

    def apply_credit(self, creditnote_id: str, body: dict[str, Any]) -> list[CreditApplied]:
        note = self.creditnote(creditnote_id)
        if note.status != "open":
            raise _bad(f"Credits cannot be applied from a {note.status} credit note.", STATUS)
        rows = body.get("invoices")
        if not isinstance(rows, list) or not rows:
            raise _bad("invoices is mandatory.", MANDATORY)
        currency = self.currency_by_id(note.currency_id)
        plan: list[tuple[Invoice, Decimal]] = []
        for row in rows:
            _require(row, "invoice_id", "amount_applied")
            invoice = self.invoice(row["invoice_id"])
            if invoice.customer_id != note.customer_id:
                raise _bad("The invoice belongs to another customer.")
            if invoice.status in ("draft", "void", "paid"):
                raise _bad(
                    "Credits cannot be applied to draft, void or closed invoices.",
                    INVOICE_NOT_OPEN,
                )
            share = self._amount(row["amount_applied"], "amount_applied", currency)
            if share > invoice.balance:
                raise _bad("The amount entered is more than the balance due.", OVER_BALANCE)
            plan.append((invoice, share))
        if sum((share for _, share in plan), Decimal(0)) > note.balance:
            raise _bad("The amount applied is more than the credit note's balance.", OVER_BALANCE)
        done = []
        for invoice, share in plan:
            invoice.balance -= share
            invoice.status = "paid" if invoice.balance == 0 else "partially_paid"
            self._use_credit(note, share)
            applied = CreditApplied(
                self.new_id(), note.creditnote_id, invoice.invoice_id, share, note.date
            )
            self.credits_applied[applied.creditnote_invoice_id] = applied
            done.append(applied)
        return done

    def refund_creditnote(self, creditnote_id: str, body: dict[str, Any]) -> CreditRefund:
        note = self.creditnote(creditnote_id)
        _require(body, "date", "amount", "from_account_id")
        if note.status != "open":
            raise _bad(f"A {note.status} credit note cannot be refunded.", CREDIT_NOT_OPEN)
        currency = self.currency_by_id(note.currency_id)
        amount = self._amount(body["amount"], "amount", currency)
        if amount > note.balance:
            raise _bad("The refund amount is more than the credit note's balance.", OVER_BALANCE)
        self.account(body["from_account_id"], DEPOSIT_TYPES, "refund from account")
        mode = str(body.get("refund_mode") or "cash")
        if mode not in PAYMENT_MODES:
            raise _bad("Invalid value passed for refund_mode.")
        description = str(body.get("description") or "")
        if len(description) > 100:
            raise _bad("description can have at most 100 characters.")
        refund = CreditRefund(
            creditnote_refund_id=self.new_id(),
            creditnote_id=note.creditnote_id,
            date=_date(body["date"]),
            amount=amount,
            from_account_id=str(body["from_account_id"]),
            refund_mode=mode,
            reference_number=_reference(body),
            description=description,
        )
        self._use_credit(note, amount)
        self.refunds[refund.creditnote_refund_id] = refund
        return refund

    def refund_json(self, refund: CreditRefund) -> dict[str, Any]:
        note = self.creditnotes[refund.creditnote_id]
        return {
            "creditnote_refund_id": refund.creditnote_refund_id,
            "creditnote_id": refund.creditnote_id,
            "creditnote_number": note.creditnote_number,
            "date": refund.date,
            "refund_mode": refund.refund_mode,
            "reference_number": refund.reference_number,
            "amount": refund.amount,
            "amount_fcy": refund.amount,
            "amount_bcy": (
                refund.amount * self.currency_by_id(note.currency_id).exchange_rate
            ).quantize(Decimal("0.01")),
            "from_account_id": refund.from_account_id,
            "description": refund.description,
        }

    def applied_json(self, applied: CreditApplied) -> dict[str, Any]:
        return {
            "creditnote_invoice_id": applied.creditnote_invoice_id,
            "creditnote_id": applied.creditnote_id,
            "invoice_id": applied.invoice_id,
            "invoice_number": self.invoices[applied.invoice_id].invoice_number,
            "creditnote_number": self.creditnotes[applied.creditnote_id].creditnote_number,
            "date": applied.date,
            "amount_applied": applied.amount,
            "credited_amount": applied.amount,
        }

    # -- upsert by a unique custom field ------------------------------------------------

    def upsert(
        self,
        table: dict[str, Any],
        field_name: str,
        value: str,
        create: Callable[[], Any] | None,
        update: Callable[[Any], None],
        *,
        body_fields: dict[str, str] | None = None,
        written_from: str = "body",
    ) -> tuple[Any, bool]:
        """The record whose custom field ``field_name`` holds ``value``, updated; or a new
        one when ``create`` is given (X-Upsert: true). Returns (record, created).

        zoho.upsert.field_written_on_create leaves open whether a created record gets the
        header's value in its custom field: ``written_from`` is ``body`` (only what the body's
        ``custom_fields`` carry, the default), ``header`` (also the header's value) or
        ``none`` (nothing)."""
        if field_name not in self.unique_fields:
            raise _bad(
                f"{field_name} is not a custom field that refuses duplicate values.", UNIQUE_FIELD
            )
        for record in table.values():
            if record.custom_fields.get(field_name) == value:
                update(record)
                return record, False
        if create is None:
            raise ApiError(404, NOT_FOUND, "No record holds that unique value.")
        record = create()
        if written_from in ("body", "header"):
            record.custom_fields.update(body_fields or {})
        if written_from == "header":
            record.custom_fields[field_name] = value
        return record, True
