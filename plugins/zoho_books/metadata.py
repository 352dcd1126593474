"""Organization metadata kept in the store: accounts, items, currencies, customer contacts.

A warm run spends no calls here. A missing entry is re-read once per process (the user may
have just created the account or enabled the currency) before it counts as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.api import ConfigurationError, KeyValueCache
from plugins.zoho_books.client import BooksClient, BooksRejected

__all__ = ["Account", "Currency", "Item", "Metadata", "Tax"]


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    account_name: str
    account_type: str
    is_active: bool
    account_code: str = ""

    def label(self) -> str:
        return f"{self.account_name!r} ({self.account_id})"


@dataclass(frozen=True, slots=True)
class Item:
    item_id: str
    name: str
    is_active: bool
    account_id: str = ""


@dataclass(frozen=True, slots=True)
class Currency:
    currency_id: str
    currency_code: str
    price_precision: int
    is_base_currency: bool
    exchange_rate: str = ""  # the organization's rate to its base currency, Decimal text


@dataclass(frozen=True, slots=True)
class Tax:
    tax_id: str
    tax_name: str
    tax_percentage: str  # Decimal text (the cache holds JSON)
    tax_type: str
    is_active: bool  # zoho.taxes.no_status_field: only a given status can say inactive

    def label(self) -> str:
        return f"{self.tax_name!r} {self.tax_percentage}% ({self.tax_id})"


def _tax(row: dict[str, Any]) -> dict[str, Any]:
    status = row.get("status")
    active = row.get("is_active")
    return {
        "tax_id": str(row["tax_id"]),
        "tax_name": str(row.get("tax_name") or ""),
        "tax_percentage": str(row.get("tax_percentage", "0")),
        "tax_type": str(row.get("tax_type") or "tax"),
        "is_active": (status is None or str(status) == "active") and active is not False,
    }


def _account(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": str(row["account_id"]),
        "account_name": str(row.get("account_name") or ""),
        "account_type": str(row.get("account_type") or ""),
        "is_active": bool(row.get("is_active", True)),
        "account_code": str(row.get("account_code") or ""),
    }


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_id": str(row["item_id"]),
        "name": str(row.get("name") or ""),
        "is_active": str(row.get("status") or "active") == "active",
        "account_id": str(row.get("account_id") or ""),
    }


def _currency(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "currency_id": str(row["currency_id"]),
        "currency_code": str(row["currency_code"]),
        "price_precision": int(row.get("price_precision", 2)),
        "is_base_currency": bool(row.get("is_base_currency", False)),
        "exchange_rate": str(row.get("exchange_rate") or ""),
    }


DUPLICATE_CONTACT_NAME = 3062  # "The customer "<name>" already exists."


class Metadata:
    """Reads through the store cache; ``refresh=True`` re-reads from Zoho."""

    def __init__(self, client: BooksClient, cache: KeyValueCache, *, customer_prefix: str) -> None:
        self._client = client
        self._cache = cache
        self._prefix = f"zoho_books:{client.organization_id}"
        self._customer_prefix = customer_prefix
        self._reread: set[str] = set()
        # The currencies by code, made once from the rows they were made from (the cache
        # in front of the store gives the same rows back until they are read again).
        self._currency_rows: Any = None
        self._currencies: dict[str, Currency] = {}

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def _cached(self, name: str, load: Any, refresh: bool) -> Any:
        value = None if refresh else self._cache.get(self._key(name))
        if value is None:
            value = load()
            self._cache.set(self._key(name), value)
            self._reread.add(name)
        return value

    # -- accounts ----------------------------------------------------------------------

    def accounts(self, *, refresh: bool = False) -> list[Account]:
        rows = self._cached(
            "accounts",
            lambda: [
                _account(row)
                for row in self._client.list_all(
                    "/chartofaccounts", "chartofaccounts", {"filter_by": "AccountType.All"}
                )
            ],
            refresh,
        )
        return [Account(**row) for row in rows]

    def account(self, account_id: str) -> Account | None:
        found = {a.account_id: a for a in self.accounts()}.get(account_id)
        if found is None and "accounts" not in self._reread:
            found = {a.account_id: a for a in self.accounts(refresh=True)}.get(account_id)
        return found

    # -- items -------------------------------------------------------------------------

    def items(self, *, refresh: bool = False) -> list[Item]:
        rows = self._cached(
            "items",
            # All: an inactive item is then reported as inactive, not as missing.
            lambda: [
                _item(row)
                for row in self._client.list_all("/items", "items", {"filter_by": "Status.All"})
            ],
            refresh,
        )
        return [Item(**row) for row in rows]

    def item(self, item_id: str) -> Item | None:
        found = {i.item_id: i for i in self.items()}.get(item_id)
        if found is None and "items" not in self._reread:
            found = {i.item_id: i for i in self.items(refresh=True)}.get(item_id)
        return found

    # -- taxes -------------------------------------------------------------------------

    def taxes(self, *, refresh: bool = False) -> list[Tax]:
        rows = self._cached(
            "taxes",
            lambda: [_tax(row) for row in self._client.list_all("/settings/taxes", "taxes")],
            refresh,
        )
        return [Tax(**row) for row in rows]

    def tax(self, tax_id: str) -> Tax | None:
        found = {t.tax_id: t for t in self.taxes()}.get(tax_id)
        if found is None and "taxes" not in self._reread:
            found = {t.tax_id: t for t in self.taxes(refresh=True)}.get(tax_id)
        return found

    # -- currencies --------------------------------------------------------------------

    def currencies(self, *, refresh: bool = False) -> dict[str, Currency]:
        rows = self._cached(
            "currencies",
            lambda: [
                _currency(row)
                for row in self._client.list_all("/settings/currencies", "currencies")
            ],
            refresh,
        )
        if rows is not self._currency_rows:
            self._currencies = {row["currency_code"]: Currency(**row) for row in rows}
            self._currency_rows = rows
        return dict(self._currencies)

    def currency(self, code: str) -> Currency | None:
        self.currencies()
        found = self._currencies.get(code)
        if found is None and "currencies" not in self._reread:
            found = self.currencies(refresh=True).get(code)
        return found

    # -- the generic customer per currency ---------------------------------------------

    def customer_name(self, currency: Currency) -> str:
        return f"{self._customer_prefix} ({currency.currency_code})"

    def known_customer(self, currency_code: str) -> str | None:
        """The generic customer's contact id in ``currency_code`` if one was used (no call)."""
        contacts = self._cache.get(self._key("customers")) or {}
        found = contacts.get(currency_code)
        return str(found) if found else None

    def customer_for(self, currency: Currency) -> str:
        """The contact id of the generic customer in ``currency``, created once.

        Found by name first, so a create whose answer was lost is not repeated.
        """
        known = self._cache.get(self._key("customers")) or {}
        contact_id = known.get(currency.currency_code)
        if contact_id:
            return str(contact_id)
        contacts: dict[str, str] = dict(known)
        name = self.customer_name(currency)
        for row in self._client.list_all("/contacts", "contacts", {"contact_name": name}):
            if row.get("contact_name") == name and str(row.get("currency_id")) == (
                currency.currency_id
            ):
                contact_id = str(row["contact_id"])
                break
        else:
            contact_id = self._create_customer(name, currency)
        contacts[currency.currency_code] = contact_id
        self._cache.set(self._key("customers"), contacts)
        return contact_id

    def _create_customer(self, name: str, currency: Currency) -> str:
        """Create the generic customer. Zoho refuses a second contact of the same name (3062):
        then the one that exists is reused when it is in this currency (an earlier create whose
        answer was lost), and otherwise the user is told in one line what to change."""
        body = {
            "contact_name": name,
            "contact_type": "customer",
            "currency_id": currency.currency_id,
        }
        try:
            return str(self._client.post("/contacts", body)["contact"]["contact_id"])
        except BooksRejected as refused:
            if refused.code != DUPLICATE_CONTACT_NAME:
                raise
            for row in self._client.list_all("/contacts", "contacts", {"contact_name": name}):
                if row.get("contact_name") != name:
                    continue
                if str(row.get("currency_id")) == currency.currency_id:
                    return str(row["contact_id"])
                raise ConfigurationError(
                    f"Zoho Books already has a contact named {name!r} in another currency "
                    f"({row.get('currency_code') or row.get('currency_id')}), so the "
                    f"{currency.currency_code} customer cannot be created.",
                    "Rename that contact in Zoho Books (ledgersync keeps one customer per "
                    "currency under this name), then sync again.",
                ) from None
            raise
