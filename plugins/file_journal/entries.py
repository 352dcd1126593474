"""Documents as balanced double-entry journal entries.

Each document becomes one entry of two postings, debit first, mirroring what the accounting
system itself would record for the same document:

==============  ==========================  ===========================
document        debit                       credit
==============  ==========================  ===========================
Invoice         Accounts Receivable         Sales (income)
Payment         Bank (gateway clearing)     Accounts Receivable
Expense         Fees (expense)              Bank (gateway clearing)
CreditNote      Refunds (liability)         Accounts Receivable
CreditRefund    Accounts Receivable         Bank (gateway clearing)
==============  ==========================  ===========================

Receivable nets to zero once a sale is paid and once a refund is paid out. The refunds account
is the seed's "other current liability" used as a contra account: it collects refunds as a
debit balance the bookkeeper reclassifies against sales. The clearing (bank) account ends at
charges - fees - refunds: exactly what the gateway pays out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.api import Adjustment, Document, DocumentKind
from plugins.file_journal.accounts import JournalAccounts

__all__ = ["JournalEntry", "Posting", "entry_for"]

_LABELS = {
    DocumentKind.INVOICE: "Invoice",
    DocumentKind.PAYMENT: "Payment",
    DocumentKind.EXPENSE: "Fees",
    DocumentKind.CREDIT_NOTE: "Credit note",
    DocumentKind.CREDIT_REFUND: "Refund paid",
    DocumentKind.TRANSFER: "Payout",
    DocumentKind.ADJUSTMENT: "Payout adjustment",
}


@dataclass(frozen=True, slots=True)
class Posting:
    """One line: a positive amount is a debit, a negative one a credit."""

    account: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One document as one balanced entry; ``links`` are the keys it depends on."""

    key: str
    kind: DocumentKind
    date: date
    currency: str
    narration: str
    postings: tuple[Posting, ...]
    links: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if sum((p.amount for p in self.postings), Decimal(0)) != 0:
            raise ValueError(f"{self.key}: postings do not balance")


def _sides(document: Document, accounts: JournalAccounts) -> tuple[str, str]:
    """(debit account, credit account) of a document."""
    kind = document.kind
    if isinstance(document, Adjustment):
        into = document.into_clearing
        return (
            (accounts.bank, accounts.adjustment) if into else (accounts.adjustment, accounts.bank)
        )
    return {
        DocumentKind.INVOICE: (accounts.receivable, accounts.sales),
        DocumentKind.PAYMENT: (accounts.bank, accounts.receivable),
        DocumentKind.EXPENSE: (accounts.fee, accounts.bank),
        DocumentKind.CREDIT_NOTE: (accounts.refund, accounts.receivable),
        DocumentKind.CREDIT_REFUND: (accounts.receivable, accounts.bank),
        DocumentKind.TRANSFER: (accounts.payout, accounts.bank),
    }[kind]


def entry_for(document: Document, accounts: JournalAccounts) -> JournalEntry:
    """The journal entry of ``document`` with the connection's accounts."""
    debit, credit = _sides(document, accounts)
    label = _LABELS[document.kind]
    narration = f"{label}: {document.description}" if document.description else label
    return JournalEntry(
        key=document.key,
        kind=document.kind,
        date=document.date,
        currency=document.currency,
        narration=narration,
        postings=(Posting(debit, document.amount), Posting(credit, -document.amount)),
        links=document.depends_on,
    )
