"""An organization's chart: accounts, items, taxes, currencies, contacts and look-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from plugins.zoho_books.testing.standin.errors import ApiError
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
from plugins.zoho_books.testing.standin.rules import (
    CURRENCY_MISMATCH,
    DUPLICATE,
    MANDATORY,
    NOT_FOUND,
    PRECISION,
    STATUS,
    WRONG_ACCOUNT,
    _bad,
    _decimals,
    _number,
    _require,
)
from plugins.zoho_books.testing.standin.taxes import Tax, line_tax

__all__ = ["Chart"]


@dataclass
class Chart:
    """One organization's data, its settings (accounts, items, taxes, currencies, contacts)
    and the look-ups and line checks every document uses. The caller holds the lock."""

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
    # zoho.banktransaction.fx (not documented): a transfer between accounts kept in different
    # currencies is refused; with this on, it is accepted when it carries an exchange_rate.
    fx_transfers_with_rate: bool = False
    serial: int = 0

    # -- ids and settings ---------------------------------------------------------------

    def new_id(self) -> str:
        self.serial += 1
        return f"{4600 + self.number}{self.serial:08d}"

    def add_account(
        self, name: str, account_type: str, *, active: bool = True, currency_id: str = ""
    ) -> str:
        code = f"{len(self.accounts) + 1000}"
        account = Account(self.new_id(), name, account_type, active, code, currency_id)
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
