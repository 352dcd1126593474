"""The protocols plugins implement and the values the host hands them.

Sources, destinations, mappers and notifiers are classes registered through the hooks in
:mod:`core.hookspecs`. The host builds each with a :class:`PluginContext` (sources,
destinations) or with no arguments (mappers, notifiers).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from core.documents import Document
from core.records import Fetched, Quarantined, Record

__all__ = [
    "AccountBalance",
    "AccountSettings",
    "ApiCallCounter",
    "BooksIndex",
    "CallCosts",
    "ChargeDocuments",
    "Claim",
    "ClaimKeeper",
    "ConnectionInfo",
    "Deleting",
    "DeliveryContext",
    "Destination",
    "DestinationStandIn",
    "FetchWindow",
    "GatewayBalance",
    "Health",
    "KeyValueCache",
    "Mapper",
    "MappingContext",
    "Notice",
    "NoticeKind",
    "Notifier",
    "PluginContext",
    "QuotaObserver",
    "RemoteDocument",
    "RunInfo",
    "RunSummary",
    "Source",
    "SourceStandIn",
    "SourceTotals",
    "Vault",
]


# ----------------------------------------------------------------------------- shared values


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """The destination accounts and item a connection maps roles to (remote ids)."""

    sales_account: str | None = None
    fee_account: str | None = None
    refund_account: str | None = None
    bank_account: str | None = None
    item: str | None = None
    payout_account: str | None = None  # optional: payouts are held until it is set
    adjustment_account: str | None = None  # optional: payouts needing one are held without
    extra: Mapping[str, str] = field(default_factory=dict)

    def account_for(self, name: str, currency: str) -> str | None:
        """The ``name`` account (e.g. ``payout_account``) for ``currency``: the one set for that
        currency (``--payout-account USD=ID``, kept in ``extra`` as ``payout_account:USD``),
        else the default; None when neither is set."""
        return self.extra.get(f"{name}:{currency.upper()}") or getattr(self, name)

    def by_currency(self, name: str) -> dict[str, str]:
        """The ``name`` accounts set per currency: currency -> account id."""
        prefix = f"{name}:"
        return {
            key.removeprefix(prefix): value
            for key, value in self.extra.items()
            if key.startswith(prefix) and value
        }

    def missing(self) -> list[str]:
        """Names of the settings still unset, in the order a user fills them."""
        names = ("sales_account", "fee_account", "refund_account", "bank_account", "item")
        return [name for name in names if not getattr(self, name)]


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A read-only view of one connection, as plugins and notifiers see it."""

    id: int
    name: str
    source: str
    destination: str | None
    timezone: ZoneInfo
    mode: str
    channels: tuple[str, ...] | None  # None: all channels
    settings: AccountSettings
    status: str
    enabled: bool
    notify_emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Health:
    """Result of a health probe. ``authorization_failed`` marks the connection failed."""

    ok: bool
    detail: str = ""
    authorization_failed: bool = False


class Vault(Protocol):
    """Encrypted credentials of one connection, by name. Values never leave unencrypted."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class KeyValueCache(Protocol):
    """Metadata a plugin keeps in the store (accounts, items, currencies, contact ids)."""

    def get(self, name: str) -> Any | None: ...

    def set(self, name: str, value: Any) -> None: ...


class ApiCallCounter(Protocol):
    """Counts remote API calls; the host reports them per run and per day."""

    def count(self, calls: int = 1) -> None: ...


@runtime_checkable
class QuotaObserver(Protocol):
    """A call counter that also keeps the daily quota the API answers with (the host's does):
    calls a day, calls left, when it resets. A destination reports it on every answer."""

    def note_quota(self, limit: int, remaining: int, resets_at: datetime) -> None: ...


@dataclass(slots=True)
class PluginContext:
    """What the host gives a source or destination for one connection."""

    connection: ConnectionInfo
    config: Mapping[str, Any]
    vault: Vault
    cache: KeyValueCache
    calls: ApiCallCounter


# ----------------------------------------------------------------------------- balances


@dataclass(frozen=True, slots=True)
class GatewayBalance:
    """What a gateway holds for the merchant in one currency (for ``reconcile``).

    A source that can tell implements ``balances() -> Mapping[str, GatewayBalance]``."""

    currency: str
    available: Decimal
    pending: Decimal = Decimal(0)
    reserve: Decimal = Decimal(0)
    other: Mapping[str, Decimal] = field(default_factory=dict)  # wallets it does not name

    @property
    def total(self) -> Decimal:
        return self.available + self.pending + self.reserve


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


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class FetchWindow:
    """Fetch charges created in ``[start, end)`` and refunds of charges since ``refunds_since``."""

    start: datetime
    end: datetime
    refunds_since: datetime


@runtime_checkable
class Source(Protocol):
    """A payment gateway. ``name`` prefixes document keys (``<name>:charge:<id>:invoice``)."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    channels: ClassVar[Mapping[str, str]]  # slug -> label shown to people

    def __init__(self, context: PluginContext) -> None: ...

    def account_id(self) -> str:
        """The business this source reads (one business per destination organization)."""
        ...

    def fetch(
        self, window: FetchWindow, state: MutableMapping[str, Any]
    ) -> Iterator[Fetched | Quarantined]:
        """Yield records in the window (and payouts, for a source that has them). ``state``
        is the source's bookmark: update it in place; the host persists it only after
        everything yielded has been stored."""
        ...

    def health(self) -> Health: ...


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


@dataclass(frozen=True, slots=True)
class ChargeDocuments:
    """Where an already-planned charge went: its invoice and payment keys."""

    invoice_key: str
    payment_key: str


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Everything a mapper may look at besides the records. It reads no clock of its own."""

    source: str
    timezone: ZoneInfo
    now: datetime
    charge_documents: Mapping[str, ChargeDocuments]
    taken_keys: Container[str]
    # The connection's grouping options (``fees``, ``payments``: ``daily`` or ``charge``);
    # a mapper ignores those it has no use for (Bulk is daily already).
    options: Mapping[str, str] = field(default_factory=dict)


class Mapper(Protocol):
    """Turns eligible, unplanned records into documents. Pure: no I/O, no clock."""

    name: ClassVar[str]
    description: ClassVar[str]

    def plan(self, records: Iterable[Record], context: MappingContext) -> Iterable[Document]:
        """Documents for the records it can plan now; records it leaves out stay unplanned."""
        ...


# ----------------------------------------------------------------------------- notifications


class NoticeKind(StrEnum):
    CONNECTION_FAILED = "connection_failed"
    CONNECTION_RESTORED = "connection_restored"
    SYNC_FAILED = "sync_failed"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    RECORDS_QUARANTINED = "records_quarantined"
    DOCUMENTS_REJECTED = "documents_rejected"  # the destination refused documents; they wait
    BOOKS_DIFFER = "books_differ"  # a scheduled sync's reconcile found what needs a person
    BOOKS_TIE = "books_tie"  # ... and later found it settled
    TEST = "test"  # `ledgersync notify-test NAME`: a notifier should fail loudly if it cannot send


@dataclass(frozen=True, slots=True)
class Notice:
    """Something an operator should hear about."""

    kind: NoticeKind
    connection: ConnectionInfo
    subject: str
    message: str
    hint: str
    occurred_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """Delivers notices (e-mail, log, chat...). Built with no arguments."""

    name: ClassVar[str]

    def send(self, notice: Notice) -> None: ...


# ----------------------------------------------------------------------------- stand-ins


@dataclass(frozen=True, slots=True)
class SourceTotals:
    """What a source's stand-in holds for one currency, to tie the books out against."""

    charges: Decimal
    fees: Decimal
    refunds: Decimal
    payouts: Decimal = Decimal(0)  # paid out of them to the merchant's bank (all booked)


class SourceStandIn(Protocol):
    """A running fake of a source's API, for the demo, conformance suites and tests."""

    name: ClassVar[str]  # the source plugin it stands in for

    def __enter__(self) -> SourceStandIn: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def seed_demo(self, start: datetime, days: int, timezone: str, seed: int) -> None:
        """Fill the fake with a realistic stretch of sales, fees and refunds."""
        ...

    def connect(self, host: Any, connection: str, timezone: str) -> None:
        """Connect ``connection``'s source side to this fake, as an operator would."""
        ...

    def expected_totals(self, since: datetime, until: datetime) -> Mapping[str, SourceTotals]:
        """Per currency: charges, fees and refunds created in ``[since, until)``."""
        ...


class DestinationStandIn(Protocol):
    """A running fake of a destination's API."""

    name: ClassVar[str]  # the destination plugin it stands in for

    def __enter__(self) -> DestinationStandIn: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def connect(self, host: Any, connection: str) -> AccountSettings:
        """Connect ``connection``'s destination side; return ready account settings."""
        ...

    def books(self, connection: str) -> list[Mapping[str, Any]]:
        """Every document the fake holds for the connection's organization."""
        ...

    def clearing_balance(self, connection: str) -> Mapping[str, Decimal]:
        """Per currency, the balance of the clearing (bank) account."""
        ...


# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    connection: ConnectionInfo
    trigger: str
    started_at: datetime
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class RunSummary:
    outcome: str  # succeeded | failed | paused
    documents: Mapping[str, int]
    api_calls: int
    quarantined: int
    skipped: Mapping[str, int]
    error: str = ""
