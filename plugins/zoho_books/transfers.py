"""Payouts in Zoho Books: a fund transfer per payout, a journal per payout adjustment.

- Transfer: ``POST /banktransactions`` with ``transaction_type: transfer_fund`` from the
  clearing account to the payout account, ``reference_number`` = the document key; found again
  by ``GET /banktransactions?account_id=<clearing>&reference_number=`` with an exact re-check.
- Adjustment: a published ``POST /journals`` between the clearing account and the adjustment
  account (debit clearing when the payout held more than was booked, credit it otherwise),
  its lines itemized in ``notes``; found again through ``GET /journals?reference_number=``.

See docs/vendor-facts.md (zoho.banktransaction.*, zoho.journal.alternative).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.api import (
    AccountBalance,
    AccountSettings,
    Adjustment,
    ConfigurationError,
    Transfer,
    TransientError,
)
from plugins.zoho_books.client import BooksClient
from plugins.zoho_books.metadata import Currency

__all__ = [
    "bank_account_balance",
    "deliver_adjustment",
    "deliver_transfer",
    "find_adjustment",
    "find_transfer",
]

_NOTES_LIMIT = 500


def _account(settings: AccountSettings, name: str, currency: str) -> str:
    value = settings.account_for(name, currency)
    if not value:
        raise ConfigurationError(
            f"the connection has no {name.replace('_', ' ')} for {currency} set.",
            f"Set it with `ledgersync settings NAME --{name.replace('_', '-')} {currency}=ID`.",
        )
    return str(value)


def _created_id(answer: Mapping[str, Any], key: str, id_field: str) -> str:
    record = answer.get(key)
    if isinstance(record, Mapping) and record.get(id_field):
        return str(record[id_field])
    # Public code reads banktransfer.banktransfer_id after a transfer_fund (unverified).
    fallback = answer.get("banktransfer")
    if isinstance(fallback, Mapping) and fallback.get("banktransfer_id"):
        return str(fallback["banktransfer_id"])
    raise KeyError(f"{key}.{id_field}")


def deliver_transfer(
    client: BooksClient, currency: Currency, document: Transfer, settings: AccountSettings
) -> str:
    body: dict[str, Any] = {
        "transaction_type": "transfer_fund",
        "from_account_id": _account(settings, "bank_account", document.currency),
        "to_account_id": _account(settings, "payout_account", document.currency),
        "amount": document.amount,
        "date": document.date.isoformat(),
        "reference_number": document.key,
        "currency_id": currency.currency_id,
    }
    if document.description:
        body["description"] = document.description
    answer = client.post("/banktransactions", body)
    return _created_id(answer, "banktransaction", "transaction_id")


def find_transfer(client: BooksClient, document: Transfer, settings: AccountSettings) -> str | None:
    rows = client.list_all(
        "/banktransactions",
        "banktransactions",
        {
            "account_id": _account(settings, "bank_account", document.currency),
            "reference_number": document.key,
        },
    )
    for row in rows:
        if row.get("reference_number") == document.key and row.get("transaction_id"):
            return str(row["transaction_id"])
    return None


def deliver_adjustment(
    client: BooksClient, currency: Currency, document: Adjustment, settings: AccountSettings
) -> str:
    clearing = _account(settings, "bank_account", document.currency)
    other = _account(settings, "adjustment_account", document.currency)
    into = document.into_clearing
    notes = "; ".join((document.description, *document.items))
    body: dict[str, Any] = {
        "journal_date": document.date.isoformat(),
        "reference_number": document.key,
        "notes": notes[:_NOTES_LIMIT],
        "currency_id": currency.currency_id,
        "status": "published",
        "line_items": [
            {
                "account_id": clearing,
                "debit_or_credit": "debit" if into else "credit",
                "amount": document.amount,
                "description": document.description,
            },
            {
                "account_id": other,
                "debit_or_credit": "credit" if into else "debit",
                "amount": document.amount,
                "description": document.description,
            },
        ],
    }
    answer = client.post("/journals", body)
    return _created_id(answer, "journal", "journal_id")


def find_adjustment(client: BooksClient, document: Adjustment) -> str | None:
    rows = client.list_all("/journals", "journals", {"reference_number": document.key})
    for row in rows:
        if row.get("reference_number") == document.key and row.get("journal_id"):
            return str(row["journal_id"])
    return None


def bank_account_balance(client: BooksClient, account_id: str) -> AccountBalance:
    """``GET /bankaccounts/{id}`` -> ``bankaccount.balance`` in the account's currency (the
    books balance; ``bank_balance`` is the bank feed's and is not used)."""
    answer = client.get(f"/bankaccounts/{account_id}")
    account = answer.get("bankaccount")
    if not isinstance(account, Mapping) or account.get("balance") is None:
        raise TransientError(
            f"Zoho Books sent no balance for bank account {account_id}.",
            "Try again later; if it persists, check the account in Zoho Books.",
        )
    balance = account["balance"]
    return AccountBalance(
        account_id=str(account_id),
        currency=str(account.get("currency_code") or ""),
        balance=balance if isinstance(balance, Decimal) else Decimal(str(balance)),
    )
