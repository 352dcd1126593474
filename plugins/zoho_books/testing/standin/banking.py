"""Banking in the stand-in: fund transfers, journals and bank-account balances.

``POST /banktransactions`` with ``transaction_type: transfer_fund`` moves money between two
bank (or cash) accounts; ``POST /journals`` posts balanced debit and credit lines (only once
published: a draft journal moves nothing); ``GET /bankaccounts/{id}`` answers the account's
``balance`` from the stand-in's own postings, in the one currency the account is kept in
(zoho.bankaccount.currency; docs/vendor-facts.md, section O). The caller holds the stand-in's
lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from plugins.zoho_books.testing.standin.errors import ApiError

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.state import Organization

__all__ = [
    "BANK_TYPES",
    "BankTransaction",
    "Journal",
    "bank_account_json",
    "create_journal",
    "create_transfer",
    "journal_json",
    "postings",
    "transfer_json",
]

BANK_TYPES = {"bank", "cash"}
TRANSACTION_TYPES = {
    "deposit",
    "refund",
    "transfer_fund",
    "card_payment",
    "sales_without_invoices",
    "expense_refund",
    "owner_contribution",
    "interest_income",
    "other_income",
    "owner_drawings",
    "sales_return",
}


@dataclass
class BankTransaction:
    transaction_id: str
    transaction_type: str
    from_account_id: str
    to_account_id: str
    currency_id: str
    amount: Decimal
    date: str
    reference_number: str
    description: str = ""


@dataclass
class Journal:
    journal_id: str
    journal_date: str
    reference_number: str
    notes: str
    currency_id: str
    status: str
    lines: list[tuple[str, str, Decimal]]  # (account id, debit | credit, amount)


def _bad(message: str, code: int = 2) -> ApiError:
    return ApiError(400, code, message)


def create_transfer(org: Organization, body: dict[str, Any]) -> BankTransaction:
    from plugins.zoho_books.testing.standin import rules

    rules._require(body, "transaction_type")
    kind = body["transaction_type"]
    if kind not in TRANSACTION_TYPES:
        raise _bad("Invalid value passed for transaction_type.")
    if kind != "transfer_fund":
        raise _bad(f"The stand-in books only transfer_fund, not {kind}.")
    rules._require(body, "from_account_id", "to_account_id", "amount", "date")
    source = org.account(body["from_account_id"], BANK_TYPES, "from account")
    target = org.account(body["to_account_id"], BANK_TYPES, "to account")
    if source.account_id == target.account_id:
        raise _bad("The from and to accounts cannot be the same.")
    base = org.base_currency().currency_id
    kept = {source.currency_id or base, target.currency_id or base}
    if len(kept) > 1 and not (org.fx_transfers_with_rate and "exchange_rate" in body):
        raise _bad("The from and to accounts are kept in different currencies.")
    currency = org.currency_by_id(body.get("currency_id") or org.base_currency().currency_id)
    transaction = BankTransaction(
        transaction_id=org.new_id(),
        transaction_type=kind,
        from_account_id=source.account_id,
        to_account_id=target.account_id,
        currency_id=currency.currency_id,
        amount=org._amount(body["amount"], "amount", currency),
        date=rules._date(body["date"]),
        reference_number=rules._reference(body),
        description=str(body.get("description") or ""),
    )
    org.banktransactions[transaction.transaction_id] = transaction
    return transaction


def transfer_json(org: Organization, transaction: BankTransaction) -> dict[str, Any]:
    return {
        "transaction_id": transaction.transaction_id,
        "transaction_type": transaction.transaction_type,
        "from_account_id": transaction.from_account_id,
        "to_account_id": transaction.to_account_id,
        "account_id": transaction.from_account_id,
        "debit_or_credit": "credit",
        "currency_id": transaction.currency_id,
        "currency_code": org.currency_by_id(transaction.currency_id).currency_code,
        "amount": transaction.amount,
        "date": transaction.date,
        "reference_number": transaction.reference_number,
        "description": transaction.description,
        "status": "manually_added",
    }


def create_journal(org: Organization, body: dict[str, Any]) -> Journal:
    from plugins.zoho_books.testing.standin import rules

    rules._require(body, "journal_date", "line_items")
    currency = org.currency_by_id(body.get("currency_id") or org.base_currency().currency_id)
    rows = body["line_items"]
    if not isinstance(rows, list) or len(rows) < 2:
        raise _bad("A journal needs at least two line items.")
    lines: list[tuple[str, str, Decimal]] = []
    totals = {"debit": Decimal(0), "credit": Decimal(0)}
    for row in rows:
        if not isinstance(row, dict):
            raise _bad("Invalid value passed for line_items.")
        rules._require(row, "account_id", "amount", "debit_or_credit")
        side = row["debit_or_credit"]
        if side not in totals:
            raise _bad("Invalid value passed for debit_or_credit.")
        account_id = str(row["account_id"])
        if account_id not in org.accounts:
            raise _bad(f"Invalid value passed for account_id: account {account_id} does not exist.")
        amount = org._amount(row["amount"], "amount", currency)
        totals[side] += amount
        lines.append((account_id, side, amount))
    if totals["debit"] != totals["credit"]:
        raise _bad("The journal entry is not balanced: debits and credits differ.")
    status = str(body.get("status") or "draft")
    if status not in ("draft", "published"):
        raise _bad("Invalid value passed for status.")
    journal = Journal(
        journal_id=org.new_id(),
        journal_date=rules._date(body["journal_date"], "journal_date"),
        reference_number=rules._reference(body),
        notes=str(body.get("notes") or ""),
        currency_id=currency.currency_id,
        status=status,
        lines=lines,
    )
    org.journals[journal.journal_id] = journal
    return journal


def journal_json(org: Organization, journal: Journal) -> dict[str, Any]:
    return {
        "journal_id": journal.journal_id,
        "journal_date": journal.journal_date,
        "reference_number": journal.reference_number,
        "notes": journal.notes,
        "currency_id": journal.currency_id,
        "currency_code": org.currency_by_id(journal.currency_id).currency_code,
        "status": journal.status,
        "total": sum((amount for _, side, amount in journal.lines if side == "debit"), Decimal(0)),
        "line_items": [
            {"account_id": account_id, "debit_or_credit": side, "amount": amount}
            for account_id, side, amount in journal.lines
        ],
    }


def postings(org: Organization) -> list[tuple[str, str, Decimal]]:
    """Every movement of money in or out of an account: (account id, currency id, signed)."""
    moves: list[tuple[str, str, Decimal]] = []
    for p in org.payments.values():
        moves.append((p.account_id, p.currency_id, p.amount))
    for e in org.expenses.values():
        moves.append((e.paid_through_account_id, e.currency_id, -e.amount))
    for r in org.refunds.values():
        moves.append((r.from_account_id, org.creditnotes[r.creditnote_id].currency_id, -r.amount))
    for t in org.banktransactions.values():
        moves.append((t.from_account_id, t.currency_id, -t.amount))
        moves.append((t.to_account_id, t.currency_id, t.amount))
    for j in org.journals.values():
        if j.status != "published":
            continue
        for account_id, side, amount in j.lines:
            moves.append((account_id, j.currency_id, amount if side == "debit" else -amount))
    return moves


def bank_account_json(org: Organization, account_id: str) -> dict[str, Any]:
    account = org.accounts.get(str(account_id))
    if account is None or account.account_type not in BANK_TYPES:
        raise ApiError(404, 1002, "Bank account does not exist.")
    kept = org.currency_by_id(account.currency_id or org.base_currency().currency_id)
    balance = sum(
        (
            amount
            for moved, currency_id, amount in postings(org)
            if moved == account.account_id and currency_id == kept.currency_id
        ),
        Decimal(0),
    )
    return {
        "account_id": account.account_id,
        "account_name": account.account_name,
        "account_type": account.account_type,
        "currency_id": kept.currency_id,
        "currency_code": kept.currency_code,
        "price_precision": kept.price_precision,
        "is_active": account.is_active,
        "balance": balance,
        "bcy_balance": balance,
        "bank_balance": Decimal(0),
    }
