"""The books of the stand-in's organizations, and the rules Zoho Books enforces on them.

Codes 0, 2, 4, 1002 and 6041 follow Zoho; the business-rule codes in the 9xxx range are the
stand-in's own (Zoho's exact numbers for them are not published), the messages are Zoho's
where known. Every rule is the stricter reading of Zoho's documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.taxes import Tax, line_tax

__all__ = ["Organization"]

INVALID_VALUE = 2
MANDATORY = 4
NOT_FOUND = 1002
DUPLICATE = 3062
WRONG_ACCOUNT = 9101
CURRENCY_MISMATCH = 9102
INVOICE_NOT_OPEN = 9103
OVER_BALANCE = 9104
CREDIT_NOT_OPEN = 9105
PRECISION = 9106
STATUS = 9107
UNIQUE_FIELD = 9108

PAYMENT_MODES = {
    "check", "cash", "creditcard", "banktransfer", "bankremittance", "autotransaction", "others",
}  # fmt: skip
INCOME_TYPES = {"income", "other_income"}
EXPENSE_TYPES = {"expense", "cost_of_goods_sold", "other_expense"}
DEPOSIT_TYPES = {"bank", "cash", "other_current_asset"}
PAID_THROUGH_TYPES = {"bank", "cash", "credit_card", "other_current_asset"}
CREDIT_LINE_TYPES = INCOME_TYPES | {"other_current_liability"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(message: str, code: int = INVALID_VALUE) -> ApiError:
    return ApiError(400, code, message)


def _require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) in (None, "", []):
            raise _bad(f"{name} is mandatory.", MANDATORY)


def _date(value: Any, name: str = "date") -> str:
    if not isinstance(value, str) or not DATE.match(value):
        raise _bad(f"Invalid value passed for {name}: use yyyy-mm-dd.")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _bad(f"Invalid value passed for {name}.") from None
    return value


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _bad(f"Invalid value passed for {name}: a JSON number is expected.")
    return Decimal(value)


def _decimals(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _reference(body: dict[str, Any]) -> str:
    value = body.get("reference_number") or ""
    if not isinstance(value, str):
        raise _bad("Invalid value passed for reference_number.")
    if len(value) > 100:
        raise _bad("reference_number can have at most 100 characters.")
    return value


@dataclass
class Account:
    account_id: str
    account_name: str
    account_type: str
    is_active: bool = True
    account_code: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "account_code": self.account_code,
            "account_type": self.account_type,
            "is_active": self.is_active,
        }


@dataclass
class Item:
    item_id: str
    name: str
    rate: Decimal
    account_id: str
    status: str = "active"
    tax_id: str = ""  # the item's default tax (zoho.tax.item_default_applied)

    def to_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "name": self.name,
            "status": self.status,
            "rate": self.rate,
            "account_id": self.account_id,
            "tax_id": self.tax_id,
        }


@dataclass
class Currency:
    currency_id: str
    currency_code: str
    price_precision: int
    is_base_currency: bool
    exchange_rate: Decimal = Decimal(1)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency_id": self.currency_id,
            "currency_code": self.currency_code,
            "currency_name": self.currency_code,
            "price_precision": self.price_precision,
            "is_base_currency": self.is_base_currency,
            "exchange_rate": self.exchange_rate,
        }


@dataclass
class Contact:
    contact_id: str
    contact_name: str
    contact_type: str
    currency_id: str
    status: str = "active"
    notes: str = ""  # free text (zoho.contact.notes_update); ledgersync's claim lives here

    def to_json(self, org: Organization) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "contact_name": self.contact_name,
            "contact_type": self.contact_type,
            "currency_id": self.currency_id,
            "currency_code": org.currency_by_id(self.currency_id).currency_code,
            "status": self.status,
            "notes": self.notes,
        }


@dataclass
class Line:
    item_id: str
    account_id: str
    rate: Decimal
    quantity: Decimal
    description: str = ""
    tax: Tax | None = None
    tax_amount: Decimal = Decimal(0)

    def to_json(self, line_item_id: str) -> dict[str, Any]:
        return {
            "line_item_id": line_item_id,
            "item_id": self.item_id,
            "account_id": self.account_id,
            "rate": self.rate,
            "quantity": self.quantity,
            "description": self.description,
            "item_total": self.rate * self.quantity,
            "tax_id": self.tax.tax_id if self.tax else "",
            "tax_name": self.tax.tax_name if self.tax else "",
            "tax_percentage": self.tax.tax_percentage if self.tax else 0,
        }


def _totals(lines: list[Line], inclusive: bool) -> tuple[Decimal, Decimal]:
    """(total, tax total) of a document's lines."""
    amount = sum((line.rate * line.quantity for line in lines), Decimal(0))
    tax = sum((line.tax_amount for line in lines), Decimal(0))
    return (amount if inclusive else amount + tax), tax


def _tax_json(lines: list[Line], inclusive: bool) -> dict[str, Any]:
    total, tax = _totals(lines, inclusive)
    taxes: dict[str, Decimal] = {}
    for line in lines:
        if line.tax is not None:
            taxes[line.tax.tax_name] = taxes.get(line.tax.tax_name, Decimal(0)) + line.tax_amount
    return {
        "is_inclusive_tax": inclusive,
        "sub_total": total - tax,
        "tax_total": tax,
        "taxes": [{"tax_name": name, "tax_amount": amount} for name, amount in taxes.items()],
    }


@dataclass
class Invoice:
    invoice_id: str
    invoice_number: str
    customer_id: str
    currency_id: str
    date: str
    reference_number: str
    lines: list[Line]
    total: Decimal
    balance: Decimal
    exchange_rate: Decimal
    status: str = "draft"
    emailed: bool = False
    custom_fields: dict[str, str] = field(default_factory=dict)
    is_inclusive_tax: bool = False


@dataclass
class Payment:
    payment_id: str
    customer_id: str
    currency_id: str
    payment_mode: str
    amount: Decimal
    date: str
    reference_number: str
    account_id: str
    applied: list[tuple[str, Decimal]]
    description: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Expense:
    expense_id: str
    account_id: str
    paid_through_account_id: str
    currency_id: str
    date: str
    amount: Decimal
    reference_number: str
    description: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class CreditNote:
    creditnote_id: str
    creditnote_number: str
    customer_id: str
    currency_id: str
    date: str
    reference_number: str
    lines: list[Line]
    total: Decimal
    balance: Decimal
    invoice_id: str | None
    status: str = "open"
    custom_fields: dict[str, str] = field(default_factory=dict)
    is_inclusive_tax: bool = False


@dataclass
class CreditApplied:
    creditnote_invoice_id: str
    creditnote_id: str
    invoice_id: str
    amount: Decimal
    date: str


@dataclass
class CreditRefund:
    creditnote_refund_id: str
    creditnote_id: str
    date: str
    amount: Decimal
    from_account_id: str
    refund_mode: str
    reference_number: str
    description: str = ""


@dataclass
class Organization:
    """One organization's settings and books. The caller holds the stand-in's lock."""

    organization_id: str
    name: str
    number: int
    currency_code: str
    time_zone: str = "Asia/Singapore"
    plan_name: str = "standard"
    daily_limit: int = 2000
    concurrency_limit: int = 10
    unique_fields: set[str] = field(default_factory=set)
    accounts: dict[str, Account] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    currencies: dict[str, Currency] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    expenses: dict[str, Expense] = field(default_factory=dict)
    creditnotes: dict[str, CreditNote] = field(default_factory=dict)
    credits_applied: dict[str, CreditApplied] = field(default_factory=dict)
    refunds: dict[str, CreditRefund] = field(default_factory=dict)
    banktransactions: dict[str, Any] = field(default_factory=dict)  # banking.BankTransaction
    journals: dict[str, Any] = field(default_factory=dict)  # banking.Journal
    taxes: dict[str, Tax] = field(default_factory=dict)
    item_default_tax: bool = True  # a line without tax_id takes its item's tax
    foreign_rate_required: bool = True  # else a missing exchange_rate takes the stored rate
    serial: int = 0

    # -- ids and settings ---------------------------------------------------------------

    def new_id(self) -> str:
        self.serial += 1
        return f"{4600 + self.number}{self.serial:08d}"

    def add_account(self, name: str, account_type: str, *, active: bool = True) -> str:
        account = Account(self.new_id(), name, account_type, active, f"{len(self.accounts) + 1000}")
        self.accounts[account.account_id] = account
        return account.account_id

    def add_item(self, name: str, account_id: str, *, active: bool = True) -> str:
        item = Item(self.new_id(), name, Decimal(0), account_id, "active" if active else "inactive")
        self.items[item.item_id] = item
        return item.item_id

    def add_tax(
        self, name: str, percentage: str, *, active: bool = True, default: bool = False
    ) -> str:
        tax = Tax(
            self.new_id(),
            name,
            Decimal(percentage),
            status="active" if active else "inactive",
            is_default_tax=default,
        )
        self.taxes[tax.tax_id] = tax
        return tax.tax_id

    def _line_tax(self, row: dict[str, Any], item: Item | None) -> Tax | None:
        if "tax_id" in row:
            if row["tax_id"] in (None, ""):
                return None
            tax = self.taxes.get(str(row["tax_id"]))
            if tax is None:
                raise _bad("Invalid value passed for tax_id.")
            if tax.status != "active":
                raise _bad(f"The tax {tax.tax_name} is inactive.", STATUS)
            return tax
        if item is not None and item.tax_id and self.item_default_tax:
            return self.taxes.get(item.tax_id)
        return None

    def add_currency(
        self, code: str, precision: int, *, base: bool = False, rate: Decimal = Decimal(1)
    ) -> str:
        currency = Currency(self.new_id(), code, precision, base, rate)
        self.currencies[currency.currency_id] = currency
        return currency.currency_id

    def to_json(self) -> dict[str, Any]:
        base = self.base_currency()
        return {
            "organization_id": self.organization_id,
            "name": self.name,
            "currency_id": base.currency_id,
            "currency_code": base.currency_code,
            "time_zone": self.time_zone,
            "price_precision": base.price_precision,
            "is_default_org": self.number == 1,
            "plan_name": self.plan_name,
        }

    # -- look-ups -----------------------------------------------------------------------

    def base_currency(self) -> Currency:
        return next(c for c in self.currencies.values() if c.is_base_currency)

    def currency_by_id(self, currency_id: str) -> Currency:
        currency = self.currencies.get(str(currency_id))
        if currency is None:
            raise _bad("Invalid value passed for currency_id.")
        return currency

    def _get(self, table: dict[str, Any], record_id: str, what: str) -> Any:
        record = table.get(str(record_id))
        if record is None:
            raise ApiError(404, NOT_FOUND, f"{what} does not exist.")
        return record

    def account(self, account_id: Any, types: set[str], role: str) -> Account:
        account = self.accounts.get(str(account_id))
        if account is None:
            raise _bad(f"Invalid value passed for {role}: account {account_id} does not exist.")
        if not account.is_active:
            raise _bad(f"The account {account.account_name} is inactive.", WRONG_ACCOUNT)
        if account.account_type not in types:
            raise _bad(
                f"The account {account.account_name} ({account.account_type}) cannot be used "
                f"as {role}.",
                WRONG_ACCOUNT,
            )
        return account

    def customer(self, customer_id: Any) -> Contact:
        contact = self.contacts.get(str(customer_id))
        if contact is None or contact.contact_type != "customer":
            raise _bad("Invalid value passed for customer_id.")
        return contact

    def _amount(self, value: Any, name: str, currency: Currency) -> Decimal:
        amount = _number(value, name)
        if amount <= 0:
            raise _bad(f"{name} must be greater than zero.")
        if _decimals(amount) > currency.price_precision:
            raise _bad(
                f"{name} {amount} has more than {currency.price_precision} decimal places for "
                f"{currency.currency_code}.",
                PRECISION,
            )
        return amount

    def _currency_for(self, body: dict[str, Any], contact: Contact, what: str) -> Currency:
        currency_id = body.get("currency_id") or contact.currency_id
        currency = self.currency_by_id(currency_id)
        if currency.currency_id != contact.currency_id:
            raise _bad(
                f"The {what} currency must be the same as the customer's currency.",
                CURRENCY_MISMATCH,
            )
        return currency

    def _exchange_rate(self, body: dict[str, Any], currency: Currency) -> Decimal:
        if "exchange_rate" not in body:
            if not currency.is_base_currency and self.foreign_rate_required:
                # zoho.fx.exchange_rate_required: "Required when the invoice currency differs
                # from the organization's base currency."
                raise _bad(
                    f"exchange_rate is required for a {currency.currency_code} document "
                    f"(the base currency is {self.base_currency().currency_code}).",
                    MANDATORY,
                )
            return currency.exchange_rate
        rate = _number(body["exchange_rate"], "exchange_rate")
        if rate <= 0:
            raise _bad("exchange_rate must be greater than zero.")
        if currency.is_base_currency and rate != 1:
            raise _bad("An exchange rate cannot be set for the base currency.")
        return rate

    def _lines(
        self, body: dict[str, Any], currency: Currency, types: set[str], *, item_required: bool
    ) -> list[Line]:
        inclusive = body.get("is_inclusive_tax") is True
        raw = body.get("line_items")
        if not isinstance(raw, list) or not raw:
            raise _bad("line_items is mandatory.", MANDATORY)
        lines = []
        for row in raw:
            if not isinstance(row, dict):
                raise _bad("Invalid value passed for line_items.")
            item_id = row.get("item_id")
            if item_id is None and item_required:
                raise _bad("item_id is mandatory for each line item.", MANDATORY)
            item = self.items.get(str(item_id)) if item_id is not None else None
            if item_id is not None and item is None:
                raise _bad("Invalid value passed for item_id.")
            if item is not None and item.status != "active":
                raise _bad(f"The item {item.name} is inactive.", STATUS)
            account_id = row.get("account_id") or (item.account_id if item else None)
            if account_id is None:
                raise _bad("account_id is mandatory for a line without an item.", MANDATORY)
            self.account(account_id, types, "line item account")
            rate = _number(row.get("rate", item.rate if item else 0), "rate")
            if rate < 0:
                raise _bad(f"Invalid value passed for rate: {rate}.")
            if _decimals(rate) > currency.price_precision:
                raise _bad(
                    f"rate {rate} has more than {currency.price_precision} decimal places for "
                    f"{currency.currency_code}.",
                    PRECISION,
                )
            quantity = _number(row.get("quantity", 1), "quantity")
            if quantity <= 0:
                raise _bad("quantity must be greater than zero.")
            description = row.get("description") or ""
            tax = self._line_tax(row, item)
            amount = rate * quantity
            tax_amount = (
                line_tax(
                    amount,
                    tax.tax_percentage,
                    inclusive=inclusive,
                    precision=currency.price_precision,
                )
                if tax is not None
                else Decimal(0)
            )
            lines.append(
                Line(
                    str(item_id or ""),
                    str(account_id),
                    rate,
                    quantity,
                    description,
                    tax,
                    tax_amount,
                )
            )
        return lines

    # -- contacts -----------------------------------------------------------------------

    def create_contact(self, body: dict[str, Any]) -> Contact:
        _require(body, "contact_name")
        name = str(body["contact_name"])
        if any(c.contact_name == name for c in self.contacts.values()):
            raise _bad(f"The customer {name!r} already exists.", DUPLICATE)
        contact_type = str(body.get("contact_type") or "customer")
        if contact_type not in ("customer", "vendor"):
            raise _bad("Invalid value passed for contact_type.")
        currency_id = str(body.get("currency_id") or self.base_currency().currency_id)
        self.currency_by_id(currency_id)
        contact = Contact(self.new_id(), name, contact_type, currency_id)
        contact.notes = str(body.get("notes") or "")
        self.contacts[contact.contact_id] = contact
        return contact

    def update_contact(self, contact_id: str, body: dict[str, Any]) -> Contact:
        """``PUT /contacts/{id}``: the fields given change (here: ``notes``)."""
        contact: Contact = self._get(self.contacts, contact_id, "Contact")
        if "notes" in body:
            contact.notes = str(body["notes"] or "")
        return contact

    # -- invoices -----------------------------------------------------------------------

    def create_invoice(self, body: dict[str, Any], *, send: bool = False) -> Invoice:
        _require(body, "customer_id", "line_items")
        contact = self.customer(body["customer_id"])
        currency = self._currency_for(body, contact, "invoice")
        lines = self._lines(body, currency, INCOME_TYPES, item_required=True)
        inclusive = body.get("is_inclusive_tax") is True
        total, _ = _totals(lines, inclusive)
        if total <= 0:
            raise _bad("The invoice total must be greater than zero.")
        number = sum(1 for _ in self.invoices) + 1
        invoice = Invoice(
            invoice_id=self.new_id(),
            invoice_number=f"INV-{number:06d}",
            customer_id=contact.contact_id,
            currency_id=currency.currency_id,
            date=_date(body.get("date") or "2026-01-01"),
            reference_number=_reference(body),
            lines=lines,
            total=total,
            balance=total,
            exchange_rate=self._exchange_rate(body, currency),
            is_inclusive_tax=inclusive,
        )
        if send:
            invoice.status, invoice.emailed = "sent", True
        self.invoices[invoice.invoice_id] = invoice
        return invoice

    def invoice(self, invoice_id: str) -> Invoice:
        invoice: Invoice = self._get(self.invoices, invoice_id, "Invoice")
        return invoice

    def mark_sent(self, invoice_id: str) -> None:
        invoice = self.invoice(invoice_id)
        if invoice.status != "draft":
            raise _bad(f"Only a draft invoice can be marked as sent ({invoice.status}).", STATUS)
        invoice.status = "sent"

    def invoice_json(self, invoice: Invoice) -> dict[str, Any]:
        currency = self.currency_by_id(invoice.currency_id)
        return {
            "invoice_id": invoice.invoice_id,
            "invoice_number": invoice.invoice_number,
            "customer_id": invoice.customer_id,
            "customer_name": self.contacts[invoice.customer_id].contact_name,
            "currency_id": invoice.currency_id,
            "currency_code": currency.currency_code,
            "date": invoice.date,
            "reference_number": invoice.reference_number,
            "status": invoice.status,
            "exchange_rate": invoice.exchange_rate,
            "total": invoice.total,
            **_tax_json(invoice.lines, invoice.is_inclusive_tax),
            "balance": invoice.balance,
            "line_items": [
                line.to_json(f"{invoice.invoice_id}{n}") for n, line in enumerate(invoice.lines)
            ],
            "custom_fields": _custom_fields(invoice.custom_fields),
        }

    # -- customer payments --------------------------------------------------------------

    def create_payment(self, body: dict[str, Any]) -> Payment:
        _require(body, "customer_id", "payment_mode", "amount", "date", "invoices", "account_id")
        contact = self.customer(body["customer_id"])
        currency = self.currency_by_id(contact.currency_id)
        mode = str(body["payment_mode"])
        if mode not in PAYMENT_MODES:
            raise _bad("Invalid value passed for payment_mode.")
        amount = self._amount(body["amount"], "amount", currency)
        self.account(body["account_id"], DEPOSIT_TYPES, "deposit to account")
        applied: list[tuple[Invoice, Decimal]] = []
        for row in body["invoices"] if isinstance(body["invoices"], list) else []:
            _require(row, "invoice_id", "amount_applied")
            invoice = self.invoice(row["invoice_id"])
            if invoice.customer_id != contact.contact_id:
                raise _bad("The invoice belongs to another customer.")
            if invoice.status in ("draft", "void"):
                raise _bad(
                    f"Payments cannot be recorded for a {invoice.status} invoice.",
                    INVOICE_NOT_OPEN,
                )
            share = self._amount(row["amount_applied"], "amount_applied", currency)
            if share > invoice.balance:
                raise _bad("The amount entered is more than the balance due.", OVER_BALANCE)
            applied.append((invoice, share))
        if not applied:
            raise _bad("invoices is mandatory.", MANDATORY)
        if sum((share for _, share in applied), Decimal(0)) > amount:
            raise _bad("The amount applied to invoices is more than the payment amount.")
        for invoice, share in applied:
            invoice.balance -= share
            invoice.status = "paid" if invoice.balance == 0 else "partially_paid"
        payment = Payment(
            payment_id=self.new_id(),
            customer_id=contact.contact_id,
            currency_id=currency.currency_id,
            payment_mode=mode,
            amount=amount,
            date=_date(body["date"]),
            reference_number=_reference(body),
            account_id=str(body["account_id"]),
            applied=[(invoice.invoice_id, share) for invoice, share in applied],
            description=str(body.get("description") or ""),
        )
        self.payments[payment.payment_id] = payment
        return payment

    def payment_json(self, payment: Payment) -> dict[str, Any]:
        return {
            "payment_id": payment.payment_id,
            "customer_id": payment.customer_id,
            "payment_mode": payment.payment_mode,
            "amount": payment.amount,
            "date": payment.date,
            "reference_number": payment.reference_number,
            "account_id": payment.account_id,
            "currency_code": self.currency_by_id(payment.currency_id).currency_code,
            "description": payment.description,
            "invoices": [
                {"invoice_id": invoice_id, "amount_applied": share}
                for invoice_id, share in payment.applied
            ],
            "custom_fields": _custom_fields(payment.custom_fields),
        }

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


def _custom_fields(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"api_name": name, "value": value} for name, value in sorted(values.items())]
