"""An in-memory accounting system: a real Destination plugin for host tests.

:class:`MemoryBooks` is the "remote" ledger (it outlives plugin instances, as a server
would); :class:`MemoryDestination` is the plugin the host builds per connection. It enforces
what a real accounting API would: documents refer to their dependencies by remote id, and
those must exist and be of the right kind; each role's account must be set. Reference
numbers are not unique in the books, so a duplicate delivery shows up as two records.

Faults are scheduled by the number of the create request (1-based, over the books' life):

- ``UNCERTAIN``: the create is committed, then the answer is lost (DeliveryUncertain);
- ``TRANSIENT``: refused before anything is written (TransientError, not sent);
- ``AUTHORIZATION`` / ``DAILY_LIMIT``: refused before anything is written;

and :meth:`MemoryBooks.reject` refuses one key for good (DocumentRejected).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from core import Manifest, hookimpl
from core.contracts import (
    AccountSettings,
    ConnectionInfo,
    DeliveryContext,
    Health,
    PluginContext,
)
from core.documents import (
    CreditNote,
    CreditRefund,
    Document,
    DocumentKind,
    Expense,
    Invoice,
    Payment,
)
from core.errors import (
    AuthorizationFailed,
    ConfigurationError,
    DailyLimitReached,
    DeliveryUncertain,
    DocumentRejected,
    TransientError,
)
from core.hookspecs import Register

MANIFEST = Manifest(
    name="memory",
    version="0.1.0",
    summary="An in-memory accounting system for host tests (destination 'memory').",
    provides=("destination:memory",),
)


class Fault(StrEnum):
    UNCERTAIN = "uncertain"
    TRANSIENT = "transient"
    AUTHORIZATION = "authorization"
    DAILY_LIMIT = "daily_limit"


#: The account roles each kind of document posts to.
ROLES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.INVOICE: ("sales_account", "item"),
    DocumentKind.PAYMENT: ("bank_account",),
    DocumentKind.EXPENSE: ("fee_account", "bank_account"),
    DocumentKind.CREDIT_NOTE: ("refund_account",),
    DocumentKind.CREDIT_REFUND: ("bank_account",),
}


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    remote_id: str
    kind: DocumentKind
    reference: str
    currency: str
    amount: Decimal
    accounts: Mapping[str, str]
    links: Mapping[str, str]  # dependency key -> remote id it was attached to


@dataclass
class MemoryBooks:
    """One organization's books. ``MemoryBooks.named(name)`` finds them from a plugin."""

    name: str = "default"
    organization: str = "memory-org"
    documents: list[RemoteDocument] = field(default_factory=list)
    creates: int = 0
    lookups: int = 0
    _faults: dict[int, Fault] = field(default_factory=dict)
    _rejected: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    registry: ClassVar[dict[str, MemoryBooks]] = {}

    @classmethod
    def named(cls, name: str) -> MemoryBooks:
        books = cls.registry.get(name)
        if books is None:
            books = cls.registry[name] = cls(name=name)
        return books

    @classmethod
    def forget(cls, name: str) -> None:
        cls.registry.pop(name, None)

    # -- arranging faults ----------------------------------------------------------------

    def fail_create(self, number: int, fault: Fault) -> None:
        """Make create request number ``number`` (1-based, counting all so far) fail."""
        self._faults[number] = fault

    def fail_next_create(self, fault: Fault) -> None:
        self.fail_create(self.creates + 1, fault)

    def reject(self, key: str, reason: str) -> None:
        """Refuse the document ``key`` for good, with ``reason``."""
        self._rejected[key] = reason

    def accept(self, key: str) -> None:
        self._rejected.pop(key, None)

    # -- reading -------------------------------------------------------------------------

    def by_reference(self, reference: str) -> list[RemoteDocument]:
        return [doc for doc in self.documents if doc.reference == reference]

    def by_id(self, remote_id: str) -> RemoteDocument | None:
        return next((doc for doc in self.documents if doc.remote_id == remote_id), None)

    def references(self) -> list[str]:
        """Every reference held, once per copy, in creation order."""
        return [doc.reference for doc in self.documents]

    def __iter__(self) -> Iterator[RemoteDocument]:
        return iter(list(self.documents))

    # -- the API the plugin speaks -------------------------------------------------------

    def create(self, document: Document, context: DeliveryContext) -> str:
        with self._lock:
            self.creates += 1
            fault = self._faults.pop(self.creates, None)
            if fault is Fault.TRANSIENT:
                raise TransientError("the books are busy (try again)")
            if fault is Fault.AUTHORIZATION:
                raise AuthorizationFailed(
                    "the books refused the access token.",
                    "Reconnect the memory destination.",
                    side="destination",
                )
            if fault is Fault.DAILY_LIMIT:
                raise DailyLimitReached("the books' daily API limit is spent.")
            if document.key in self._rejected:
                raise DocumentRejected(f"{document.key}: {self._rejected[document.key]}")
            record = RemoteDocument(
                remote_id=f"{document.kind.value}-{len(self.documents) + 1}",
                kind=document.kind,
                reference=document.key,
                currency=document.currency,
                amount=document.amount,
                accounts=_accounts(document, context.settings),
                links=self._links(document, context.remote_ids),
            )
            self.documents.append(record)
            if fault is Fault.UNCERTAIN:
                raise DeliveryUncertain(f"no answer after creating {document.key}")
            return record.remote_id

    def find(self, document: Document) -> str | None:
        with self._lock:
            self.lookups += 1
            found = [d for d in self.documents if d.reference == document.key]
            matching = [d for d in found if d.kind is document.kind]
            return matching[0].remote_id if matching else None

    def _links(self, document: Document, remote_ids: Mapping[str, str]) -> dict[str, str]:
        wanted = _dependency_kinds(document)
        links: dict[str, str] = {}
        for key, kind in wanted.items():
            remote_id = remote_ids.get(key)
            target = self.by_id(remote_id) if remote_id else None
            if target is None or target.kind is not kind or target.reference != key:
                raise DocumentRejected(
                    f"{document.key}: refers to {kind.value} {key} as {remote_id!r}, "
                    "which these books do not hold"
                )
            links[key] = remote_id  # type: ignore[assignment]
        return links


def _dependency_kinds(document: Document) -> dict[str, DocumentKind]:
    if isinstance(document, Payment):  # one invoice, or a day's (--payments daily)
        return dict.fromkeys(document.depends_on, DocumentKind.INVOICE)
    if isinstance(document, CreditNote):
        kinds = {document.invoice_key: DocumentKind.INVOICE}
        if document.payment_key:
            kinds[document.payment_key] = DocumentKind.PAYMENT
        return kinds
    if isinstance(document, CreditRefund):
        return {document.credit_note_key: DocumentKind.CREDIT_NOTE}
    assert isinstance(document, Invoice | Expense)
    return {}


def _accounts(document: Document, settings: AccountSettings) -> dict[str, str]:
    accounts: dict[str, str] = {}
    for role in ROLES[document.kind]:
        value = getattr(settings, role)
        if not value:
            raise DocumentRejected(f"{document.key}: no {role.replace('_', ' ')} is set")
        accounts[role] = value
    return accounts


class MemoryDestination:
    """The Destination plugin over :class:`MemoryBooks` (config ``{"books": NAME}``)."""

    name: ClassVar[str] = "memory"
    display_name: ClassVar[str] = "Memory books"

    def __init__(self, context: PluginContext) -> None:
        self.context = context
        self.books = MemoryBooks.named(str(context.config.get("books", "default")))

    def organization_id(self) -> str:
        return self.books.organization

    def validate(self, settings: AccountSettings) -> None:
        if missing := settings.missing():
            raise ConfigurationError(f"missing settings: {', '.join(missing)}.")

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        self.context.calls.count()
        return self.books.find(document)

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        self.context.calls.count()
        return self.books.create(document, context)

    def health(self) -> Health:
        return Health(ok=True, detail=f"{len(self.books.documents)} documents")


# ----------------------------------------------------------------------------- plain parts


class DictVault:
    """A Vault kept in a dict (no store involved)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        self._values[name] = value

    def delete(self, name: str) -> None:
        self._values.pop(name, None)


class DictCache:
    """A KeyValueCache kept in a dict."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, name: str) -> Any | None:
        return self._values.get(name)

    def set(self, name: str, value: Any) -> None:
        self._values[name] = value


class Calls:
    """An ApiCallCounter that only adds up."""

    def __init__(self) -> None:
        self.total = 0

    def count(self, calls: int = 1) -> None:
        self.total += calls


def memory_destination(books: MemoryBooks, connection: ConnectionInfo) -> MemoryDestination:
    """A fresh plugin instance on ``books``, as the host would build it for ``connection``."""
    context = PluginContext(
        connection=connection,
        config={"books": books.name},
        vault=DictVault(),
        cache=DictCache(),
        calls=Calls(),
    )
    return MemoryDestination(context)


@hookimpl
def register_destinations(register: Register) -> None:
    register(MemoryDestination)
