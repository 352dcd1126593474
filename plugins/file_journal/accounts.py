"""Journal account names for the connection's account roles, and their validation.

Accounts are named the Beancount way in both formats: colon-separated capitalised parts under
one of the five roots, and the root is the account's type, as an account type is in an
accounting system. Each role needs its type: sales ``Income``, fee ``Expenses``, refund
``Liabilities`` (the seed's "other current liability"), bank/clearing and receivable
``Assets``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.api import AccountSettings, ConfigurationError

__all__ = ["DEFAULT_ACCOUNTS", "ROLE_ROOTS", "JournalAccounts", "account_problem"]

ROLE_ROOTS = {
    "sales": "Income",
    "fee": "Expenses",
    "refund": "Liabilities",
    "bank": "Assets",
    "receivable": "Assets",
    "payout": "Assets",
}
DEFAULT_ACCOUNTS = {
    "sales": "Income:Sales",
    "fee": "Expenses:PaymentFees",
    "refund": "Liabilities:Refunds",
    "bank": "Assets:Clearing",
    "receivable": "Assets:AccountsReceivable",
    "payout": "Assets:Bank",
    "adjustment": "Equity:PayoutAdjustments",
}
RECEIVABLE_SETTING = "receivable_account"

_ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
_PART = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")


def _well_formed(name: str) -> bool:
    root, _, rest = name.partition(":")
    return root in _ROOTS and bool(rest) and all(_PART.fullmatch(p) for p in rest.split(":"))


def account_problem(role: str, name: str) -> str | None:
    """Why ``name`` cannot be the ``role`` account, or None when it can."""
    root = name.partition(":")[0]
    wanted = ROLE_ROOTS[role]
    example = DEFAULT_ACCOUNTS[role]
    if not _well_formed(name):
        return (
            f"the {role} account {name!r} is not a journal account name; use capitalised parts "
            f"joined by ':' under {wanted}, e.g. {example}"
        )
    if root != wanted:
        return (
            f"the {role} account {name!r} is an {root} account; the {role} account must be "
            f"an {wanted} account, e.g. {example}"
        )
    return None


@dataclass(frozen=True, slots=True)
class JournalAccounts:
    """The accounts a journal entry can touch (the adjustment account may have any root)."""

    sales: str
    fee: str
    refund: str
    bank: str
    receivable: str
    payout: str = DEFAULT_ACCOUNTS["payout"]
    adjustment: str = DEFAULT_ACCOUNTS["adjustment"]

    @classmethod
    def from_settings(cls, settings: AccountSettings) -> JournalAccounts:
        """The connection's accounts, each unset role taking its default name."""
        return cls(
            sales=settings.sales_account or DEFAULT_ACCOUNTS["sales"],
            fee=settings.fee_account or DEFAULT_ACCOUNTS["fee"],
            refund=settings.refund_account or DEFAULT_ACCOUNTS["refund"],
            bank=settings.bank_account or DEFAULT_ACCOUNTS["bank"],
            receivable=settings.extra.get(RECEIVABLE_SETTING) or DEFAULT_ACCOUNTS["receivable"],
            payout=settings.payout_account or DEFAULT_ACCOUNTS["payout"],
            adjustment=settings.adjustment_account or DEFAULT_ACCOUNTS["adjustment"],
        )

    def check(self) -> None:
        """Raise ConfigurationError naming every wrong account, its type and the one needed."""
        problems = [
            problem
            for role in ROLE_ROOTS
            if (problem := account_problem(role, getattr(self, role))) is not None
        ]
        if not _well_formed(self.adjustment):
            problems.append(
                f"the adjustment account {self.adjustment!r} is not a journal account name; use "
                f"capitalised parts joined by ':' under one of {', '.join(_ROOTS)}, e.g. "
                f"{DEFAULT_ACCOUNTS['adjustment']}"
            )
        if problems:
            raise ConfigurationError(
                "; ".join(problems) + ".",
                "Fix them with `ledgersync settings NAME --sales-account ...`; the receivable "
                f"account is the connection's extra setting '{RECEIVABLE_SETTING}'.",
            )
