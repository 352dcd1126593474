"""What a destination (an accounting system) implements: delivery, lookup, read-back, deletion
and the organization claim."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Protocol, runtime_checkable

from core.contracts.context import AccountSettings, Health, PluginContext
from core.documents import Document

__all__ = [
    "AccountBalance",
    "BooksIndex",
    "CallCosts",
    "Claim",
    "ClaimKeeper",
    "Deleting",
    "DeliveryContext",
    "Destination",
    "RemoteDocument",
]


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """An account's balance as the destination's books show it, in the account's currency.

    A destination that can tell implements ``account_balance(account_id) -> AccountBalance``."""

    account_id: str
    currency: str
    balance: Decimal


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    """A delivered document as the destination shows it now (for ``verify``).

    A destination that can tell implements ``read_back(kinds) -> {kind: {remote id: this}}``,
    listing each kind (never one call per document); kinds it cannot list are left out.
    ``written_with(kind, currency, settings) -> RemoteDocument`` (optional) says which account
    and customer it writes a document of that kind with, so verify can compare them."""

    amount: Decimal | None
    date: str | None = None  # ISO date
    status: str | None = None  # e.g. void
    account: str | None = None  # the account it books to (None: the listing does not say)
    customer: str | None = None  # the customer it names (None: none, or not listed)


# ----------------------------------------------------------------------------- destinations


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """Account settings plus the remote ids of the documents this one depends on."""

    settings: AccountSettings
    remote_ids: Mapping[str, str]


@runtime_checkable
class Destination(Protocol):
    """An accounting system that receives documents exactly once."""

    name: ClassVar[str]
    display_name: ClassVar[str]

    def __init__(self, context: PluginContext) -> None: ...

    def organization_id(self) -> str:
        """The organization written to (one business per organization)."""
        ...

    def validate(self, settings: AccountSettings) -> None:
        """Raise ConfigurationError naming each wrong account, its type and the type needed."""
        ...

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        """The remote id of a document an earlier attempt already created, found by key."""
        ...

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        """Create the document remotely and return its remote id.

        Raise DeliveryUncertain when the request may have been committed without an answer,
        DocumentRejected for a terminal refusal of this one document, AuthorizationFailed,
        DailyLimitReached or TransientError otherwise."""
        ...

    def health(self) -> Health: ...


@dataclass(frozen=True, slots=True)
class CallCosts:
    """What delivering costs in the destination's API calls, for the dry-run forecast.

    A destination class may offer ``call_costs(config, cache, currencies) -> CallCosts`` (a
    classmethod: no connection is opened, no call made). ``per_document`` maps a document kind
    to the calls one delivery spends at steady state; ``setup`` the calls once per run for
    what its ``cache`` lacks (metadata, a customer per currency of ``currencies``);
    ``recheck`` the extra look-up for a document whose earlier attempt is uncertain;
    ``per_minute`` the API's per-minute limit."""

    per_document: Mapping[str, int]
    per_minute: int
    setup: int = 0
    recheck: int = 1
    default: int = 1  # a kind the destination did not name

    def calls(self, kind: str) -> int:
        return self.per_document.get(kind, self.default)


# ----------------------------------------------------------------------------- mappers


@runtime_checkable
class BooksIndex(Protocol):
    """Optional for a Destination: which keys its books already hold, in one listing.

    Before a store's first delivery to an organization the host adopts documents an earlier
    store wrote there (``core/sync/adoption.py``); with this method it looks up only those,
    and what depends on them, instead of every document."""

    def keys_in_books(self, start: date, end: date) -> Collection[str]:
        """The keys (references) of the documents dated ``start`` to ``end`` in the books;
        it may return more (other dates, other references), never fewer."""
        ...


@runtime_checkable
class Deleting(Protocol):
    """Optional for a Destination: it can take back what it delivered (``ledgersync rollback``).

    ``deletable_kinds`` is the capability: the document kinds it can delete. The host refuses
    a rollback that needs any other kind before deleting anything."""

    deletable_kinds: ClassVar[frozenset[str]]

    def delete(self, remote_id: str, document: Document, context: DeliveryContext) -> None:
        """Delete the delivered ``document`` (bound to ``remote_id``; ``context`` holds the
        remote ids of what it depends on). Return normally once it is gone, also when it was
        gone already. Raise DeletionRefused when the destination will not delete it (with its
        reason), DeliveryUncertain when the request may have been done without an answer,
        AuthorizationFailed, DailyLimitReached or TransientError otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class Claim:
    """Which store writes to an organization: kept in the destination itself, so that two live
    stores (a lost one rebuilt while the old one still runs, two users' crons, a mistyped
    ``--db``) cannot both write there (``core/sync/claims.py``)."""

    holder: str  # the claiming store's id for its connection (a random uuid, kept in the store)
    connection: str  # that connection's name
    host: str  # the machine it ran on
    seen_at: datetime  # its last delivery run (or take-over), UTC


@runtime_checkable
class ClaimKeeper(Protocol):
    """Optional for a Destination: keep one :class:`Claim` in the organization.

    The host reads it before every delivery run and on connect, and refuses to write while
    another store's claim is fresh."""

    def read_claim(self) -> Claim | None:
        """The claim the organization holds; None when there is none (or it cannot be read)."""
        ...

    def write_claim(self, claim: Claim) -> Claim:
        """Write ``claim`` and return the claim the organization holds afterwards: another
        store's when it claimed first in a race the destination settles (a unique name)."""
        ...
