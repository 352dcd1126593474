"""What mappers produce: accounting documents with deterministic keys.

A document names account *roles* (sales, fee, refund, bank), never account ids: the
connection's settings resolve roles at delivery. ``key`` is stable, readable, at most 100
characters (it becomes the destination's ``reference_number``), and unique per connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from core.money import quantize

__all__ = [
    "MAX_KEY_LENGTH",
    "AccountRole",
    "Adjustment",
    "CreditNote",
    "CreditRefund",
    "Document",
    "DocumentKind",
    "Expense",
    "Invoice",
    "Payment",
    "Transfer",
    "document_from_dict",
]

MAX_KEY_LENGTH = 100


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    EXPENSE = "expense"
    CREDIT_NOTE = "credit_note"
    CREDIT_REFUND = "credit_refund"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"


class AccountRole(StrEnum):
    """The accounts a connection maps, with the destination account type each must have."""

    SALES = "sales"  # income
    FEE = "fee"  # expense
    REFUND = "refund"  # other current liability
    BANK = "bank"  # the gateway's clearing account
    PAYOUT = "payout"  # the merchant's bank account payouts arrive in (bank)
    ADJUSTMENT = "adjustment"  # where the part of a payout never booked into clearing goes


@dataclass(frozen=True, slots=True)
class Document:
    """Common shape: key, business-local date, currency, amount, the records it covers."""

    key: str
    date: date
    currency: str
    amount: Decimal
    record_ids: tuple[str, ...]
    description: str = ""

    kind: ClassVar[DocumentKind]

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > MAX_KEY_LENGTH:
            raise ValueError(f"document key {self.key!r} must be 1..{MAX_KEY_LENGTH} characters")
        if quantize(self.amount, self.currency) != self.amount:
            raise ValueError(f"{self.key}: {self.amount} is not at {self.currency} precision")
        if self.amount <= 0:
            raise ValueError(f"{self.key}: amount {self.amount} is not positive")

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Keys of documents that must be delivered before this one."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Decimal | date):
                value = str(value) if isinstance(value, Decimal) else value.isoformat()
            elif isinstance(value, tuple):
                value = [str(part) if isinstance(part, Decimal) else part for part in value]
            data[name] = value
        return data


@dataclass(frozen=True, slots=True)
class Invoice(Document):
    """A sale: one line of the default item on the sales account."""

    exchange_rate: Decimal | None = None
    kind: ClassVar[DocumentKind] = DocumentKind.INVOICE


@dataclass(frozen=True, slots=True)
class Payment(Document):
    """The customer's payment of ``invoice_key``, deposited to the clearing (bank) account.

    A payment may settle several invoices (``--payments daily``: one payment per business day
    and currency): ``invoice_keys`` then names every invoice and ``applied_amounts`` what it
    applies to each (their sum is the amount); ``invoice_key`` is the first of them."""

    invoice_key: str = ""
    invoice_keys: tuple[str, ...] = ()
    applied_amounts: tuple[Decimal, ...] = ()
    kind: ClassVar[DocumentKind] = DocumentKind.PAYMENT

    def __post_init__(self) -> None:
        Document.__post_init__(self)
        if not self.invoice_keys:
            return
        if len(self.invoice_keys) != len(self.applied_amounts):
            raise ValueError(f"{self.key}: one applied amount per invoice is needed")
        if len(set(self.invoice_keys)) != len(self.invoice_keys):
            raise ValueError(f"{self.key}: an invoice is named twice")
        if sum(self.applied_amounts, Decimal(0)) != self.amount:
            raise ValueError(f"{self.key}: the applied amounts do not add up to {self.amount}")
        if self.invoice_key != self.invoice_keys[0]:
            raise ValueError(f"{self.key}: invoice_key must be the first of invoice_keys")

    @property
    def applications(self) -> tuple[tuple[str, Decimal], ...]:
        """Each invoice the payment settles, with the amount applied to it."""
        if self.invoice_keys:
            return tuple(zip(self.invoice_keys, self.applied_amounts, strict=True))
        return ((self.invoice_key, self.amount),)

    @property
    def depends_on(self) -> tuple[str, ...]:
        return self.invoice_keys or (self.invoice_key,)


@dataclass(frozen=True, slots=True)
class Expense(Document):
    """Gateway fees on the fee account, paid through the clearing account."""

    kind: ClassVar[DocumentKind] = DocumentKind.EXPENSE


@dataclass(frozen=True, slots=True)
class CreditNote(Document):
    """A refund on the refund account, associated with the original invoice."""

    invoice_key: str = ""
    payment_key: str = ""
    kind: ClassVar[DocumentKind] = DocumentKind.CREDIT_NOTE

    @property
    def depends_on(self) -> tuple[str, ...]:
        # The invoice's payment comes first, so the invoice is paid when the credit arrives.
        return tuple(key for key in (self.invoice_key, self.payment_key) if key)


@dataclass(frozen=True, slots=True)
class CreditRefund(Document):
    """Money paid back from the clearing account against ``credit_note_key``."""

    credit_note_key: str = ""
    invoice_key: str = ""
    kind: ClassVar[DocumentKind] = DocumentKind.CREDIT_REFUND

    @property
    def depends_on(self) -> tuple[str, ...]:
        return (self.credit_note_key,)


@dataclass(frozen=True, slots=True)
class Transfer(Document):
    """A payout: the gateway's money moved from the clearing account to the payout account,
    for the payout's full amount on its date, so it matches the deposit on the bank statement."""

    kind: ClassVar[DocumentKind] = DocumentKind.TRANSFER


@dataclass(frozen=True, slots=True)
class Adjustment(Document):
    """The part of a payout that was never booked into the clearing account, between the
    clearing account and the adjustment account the user chose. ``into_clearing``: the payout
    held more than was booked (charges never synced, a top-up), so money comes into clearing;
    otherwise less (a chargeback, a deduction), so money leaves it. ``items`` itemize it."""

    into_clearing: bool = True
    items: tuple[str, ...] = ()
    kind: ClassVar[DocumentKind] = DocumentKind.ADJUSTMENT


_KINDS: dict[str, type[Document]] = {
    cls.kind.value: cls
    for cls in (Invoice, Payment, Expense, CreditNote, CreditRefund, Transfer, Adjustment)
}


def document_from_dict(data: dict[str, Any]) -> Document:
    """Rebuild a document stored with :meth:`Document.to_dict`."""
    values = dict(data)
    cls = _KINDS[values.pop("kind")]
    values["date"] = date.fromisoformat(values["date"])
    values["amount"] = Decimal(values["amount"])
    values["record_ids"] = tuple(values["record_ids"])
    if "items" in values:
        values["items"] = tuple(values["items"])
    if values.get("invoice_keys"):
        values["invoice_keys"] = tuple(values["invoice_keys"])
        values["applied_amounts"] = tuple(Decimal(part) for part in values["applied_amounts"])
    else:  # stored before payments could settle several invoices, or one invoice
        values.pop("invoice_keys", None)
        values.pop("applied_amounts", None)
    if values.get("exchange_rate") is not None:
        values["exchange_rate"] = Decimal(values["exchange_rate"])
    return cls(**values)
