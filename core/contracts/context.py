"""The values the host hands plugins: account settings, the connection, the run, and the
services in a plugin's context (vault, cache, call counter)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

__all__ = [
    "AccountSettings",
    "ApiCallCounter",
    "ConnectionInfo",
    "Health",
    "KeyValueCache",
    "PluginContext",
    "QuotaObserver",
    "RunInfo",
    "RunSummary",
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
