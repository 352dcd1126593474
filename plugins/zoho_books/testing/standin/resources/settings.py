"""The organization's settings: chart of accounts, items, currencies, taxes, contacts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.listing import page
from plugins.zoho_books.testing.standin.routing import Answer, Call, Route, done

__all__ = ["ROUTES"]

T = TypeVar("T")

ASSET_TYPES = {"bank", "cash", "other_current_asset", "fixed_asset", "accounts_receivable"}
LIABILITY_TYPES = {"other_current_liability", "accounts_payable", "long_term_liability"}
ACCOUNT_GROUPS: dict[str, Callable[[Any], bool]] = {
    "AccountType.All": lambda a: True,
    "AccountType.Active": lambda a: a.is_active,
    "AccountType.Inactive": lambda a: not a.is_active,
    "AccountType.Asset": lambda a: a.account_type in ASSET_TYPES,
    "AccountType.Liability": lambda a: a.account_type in LIABILITY_TYPES,
    "AccountType.Equity": lambda a: a.account_type == "equity",
    "AccountType.Income": lambda a: a.account_type in {"income", "other_income"},
    "AccountType.Expense": lambda a: (
        a.account_type in {"expense", "cost_of_goods_sold", "other_expense"}
    ),
}
ITEM_STATUSES = {
    "Status.All": {"active", "inactive"},
    "Status.Active": {"active"},
    "Status.Inactive": {"inactive"},
}


def _filter_by(groups: dict[str, T], wanted: str) -> T:
    found = groups.get(wanted)
    if found is None:
        raise ApiError(400, 2, "Invalid value passed for filter_by.")
    return found


def accounts(call: Call) -> Answer:
    keep = _filter_by(ACCOUNT_GROUPS, call.query.get("filter_by", "AccountType.All"))
    rows = [a.to_json() for a in call.org.accounts.values() if keep(a)]
    return 200, page(rows, call.query, "chartofaccounts")


def items(call: Call) -> Answer:
    """zoho.items.fields_and_active_default: Zoho's document calls the list "all active
    items"; the stand-in's ``items_active_only_by_default`` lists inactive items only under
    ``filter_by=Status.All`` or ``Status.Inactive``."""
    default = "Status.Active" if call.standin.items_active_only_by_default else "Status.All"
    statuses = _filter_by(ITEM_STATUSES, call.query.get("filter_by") or default)
    rows = [i.to_json() for i in call.org.items.values() if i.to_json().get("status") in statuses]
    return 200, page(rows, call.query, "items")


def currencies(call: Call) -> Answer:
    return 200, page([c.to_json() for c in call.org.currencies.values()], call.query, "currencies")


def taxes(call: Call) -> Answer:
    return 200, page([t.to_json() for t in call.org.taxes.values()], call.query, "taxes")


def contacts(call: Call) -> Answer:
    """``contact_name`` matches by "contains" (zoho.filter.contact_name), ``contact_type``
    exactly."""
    name = (call.query.get("contact_name") or "").lower()
    kind = call.query.get("contact_type")
    rows = [
        c.to_json(call.org)
        for c in call.org.contacts.values()
        if name in c.contact_name.lower() and kind in (None, c.contact_type)
    ]
    if not call.standin.contact_list_notes:  # the variant whose list rows leave them out
        rows = [{k: v for k, v in row.items() if k != "notes"} for row in rows]
    return 200, page(rows, call.query, "contacts")


def create_contact(call: Call) -> Answer:
    contact = call.org.create_contact(call.data())
    return done("The contact has been added.", 201, contact=contact.to_json(call.org))


def contact(call: Call) -> Answer:
    found = call.org._get(call.org.contacts, call.record_id, "Contact")
    return done(contact=found.to_json(call.org))


def update_contact(call: Call) -> Answer:
    """zoho.contact.notes_update: the fields given change (the stand-in keeps ``notes``)."""
    found = call.org.update_contact(call.record_id, call.data())
    return done("Contact has been updated.", contact=found.to_json(call.org))


ROUTES = [
    Route("GET", "/chartofaccounts", accounts, "accountants", "chartofaccounts"),
    Route("GET", "/items", items, "settings", "items"),
    Route("GET", "/settings/currencies", currencies, "settings", "currencies"),
    Route("GET", "/settings/taxes", taxes, "settings", "taxes"),
    Route("GET", "/contacts", contacts, "contacts", "contacts"),
    Route("POST", "/contacts", create_contact, "contacts"),
    Route("GET", "/contacts/<record_id>", contact, "contacts"),
    Route("PUT", "/contacts/<record_id>", update_contact, "contacts"),
]
