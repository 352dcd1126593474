"""The records of an organization's books and their JSON as Zoho shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from plugins.zoho_books.testing.standin.taxes import Tax

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.chart import Chart


@dataclass
class Account:
    account_id: str
    account_name: str
    account_type: str
    is_active: bool = True
    account_code: str = ""
    currency_id: str = ""  # a bank account is kept in one currency; "" is the base currency

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

    def to_json(self, org: Chart) -> dict[str, Any]:
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


def _custom_fields(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"api_name": name, "value": value} for name, value in sorted(values.items())]
