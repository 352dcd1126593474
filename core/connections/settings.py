"""A connection's settings: what may change, how a change is checked (accounts asked of the
destination), and the settings each change replaces (kept for verify and rollback)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.connections.settings_history import keep_replaced
from core.connections.setup import check_timezone
from core.contracts import AccountSettings, ConnectionInfo
from core.errors import ConfigurationError
from core.host import Host
from core.mapping.daily import CHARGE, DAILY, GROUPING_OPTIONS
from core.states import SyncMode
from core.store.repository import connection_info, get_connection, utcnow

__all__ = [
    "MODES",
    "REFUND_LOOKBACK_DAYS",
    "REFUND_LOOKBACK_RANGE",
    "SettingsChange",
    "SettingsRejected",
    "change_settings",
    "connection_summary",
    "missing_settings",
    "refund_lookback_days",
]

log = logging.getLogger(__name__)
MODES = tuple(SyncMode)
# How far back each sync looks for refunds of earlier sales. A gateway's refund window decides it
# (docs/vendor-facts.md lists each source plugin's, e.g. wallets 30 days, cards without limit).
REFUND_LOOKBACK_DAYS = 120
REFUND_LOOKBACK_RANGE = (31, 3650)
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_SYNC_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PER_CURRENCY = ("bank_account", "payout_account")  # a bank account holds one currency
_CURRENCY = re.compile(r"^[A-Z]{3}$")
ROLE_SETTINGS = (
    "sales_account",
    "fee_account",
    "refund_account",
    "bank_account",
    "item",
    "payout_account",  # optional: payouts are held until it is set
    "adjustment_account",  # optional: payouts with an unbooked part are held until it is set
)


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """What `ledgersync settings` may change; None leaves a value as it is."""

    sales_account: str | None = None
    fee_account: str | None = None
    refund_account: str | None = None
    bank_account: str | None = None
    item: str | None = None
    payout_account: str | None = None
    adjustment_account: str | None = None
    mode: str | None = None
    channels: list[str] | None = None  # [] or ["all"]: all channels
    timezone: str | None = None
    sync_time: str | None = None
    notify_emails: list[str] | None = None
    tax: str | None = None  # a destination tax id for every sales and credit line, or "none"
    api_share: int | None = None  # percent of the destination's daily API quota, 1..100
    fees: str | None = None  # "daily": one fee expense per day and currency; "charge"
    payments: str | None = None  # "daily": one payment per day and currency; "charge"
    # per-currency accounts: {"payout_account:USD": id}; "none" removes one
    currency_accounts: dict[str, str] | None = None
    refund_lookback: int | None = None  # days back to look for refunds, 31..3650

    @classmethod
    def mapping(
        cls, accounts: AccountSettings, *, payouts: bool = False, **more: Any
    ) -> SettingsChange:
        """The change that maps the five roles in ``accounts`` (with ``payouts``, also the
        payout and adjustment accounts), plus ``more`` (``mode=``, ``api_share=``, ...)."""
        return cls(
            sales_account=accounts.sales_account,
            fee_account=accounts.fee_account,
            refund_account=accounts.refund_account,
            bank_account=accounts.bank_account,
            item=accounts.item,
            payout_account=accounts.payout_account if payouts else None,
            adjustment_account=accounts.adjustment_account if payouts else None,
            **more,
        )

    def touches_accounts(self) -> bool:
        return (
            self.tax is not None
            or bool(self.currency_accounts)
            or any(getattr(self, name) is not None for name in ROLE_SETTINGS)
        )


class SettingsRejected(ConfigurationError):
    """Several settings are wrong at once; ``problems`` holds each one's own error."""

    def __init__(self, problems: Sequence[ConfigurationError]) -> None:
        super().__init__(" ".join(str(problem) for problem in problems))
        self.problems = list(problems)


def _problems(change: SettingsChange, known_channels: dict[str, str]) -> list[ConfigurationError]:
    """Every problem of ``change`` that needs no remote call, in the order of the form."""
    problems: list[ConfigurationError] = []
    if change.mode is not None and change.mode not in MODES:
        problems.append(
            ConfigurationError(f"unknown mode {change.mode!r}.", "Use bulk or individual.")
        )
    unknown = [c for c in change.channels or [] if c != "all" and c not in known_channels]
    if unknown:
        problems.append(
            ConfigurationError(
                f"unknown channel {', '.join(map(repr, unknown))}.",
                f"Choose among: all, {', '.join(sorted(known_channels))}.",
            )
        )
    if change.timezone is not None:
        try:
            check_timezone(change.timezone)
        except ConfigurationError as error:
            problems.append(error)
    if change.sync_time is not None and not _SYNC_TIME.match(change.sync_time):
        problems.append(
            ConfigurationError(
                f"sync time {change.sync_time!r} is not HH:MM.", "Use e.g. --sync-time 02:00."
            )
        )
    for key in change.currency_accounts or {}:
        setting, _, currency = key.partition(":")
        if setting not in PER_CURRENCY or not _CURRENCY.match(currency):
            problems.append(
                ConfigurationError(
                    f"{currency!r} is not a currency code for --{setting.replace('_', '-')}.",
                    "Use a three-letter code, e.g. --payout-account USD=ID.",
                )
            )
    problems.extend(
        ConfigurationError(
            f"{address!r} is not an e-mail address.", "Use e.g. --notify-email ops@example.com."
        )
        for address in change.notify_emails or []
        if not _EMAIL.match(address)
    )
    return problems


def _reject(problems: Sequence[ConfigurationError]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise SettingsRejected(problems)


def refund_lookback_days(extra: Any) -> int:
    """Days back each sync re-reads sales for refunds (the setting, else the default)."""
    try:
        days = int((extra or {}).get("refund_lookback_days") or REFUND_LOOKBACK_DAYS)
    except (TypeError, ValueError, AttributeError):
        days = REFUND_LOOKBACK_DAYS
    low, high = REFUND_LOOKBACK_RANGE
    return min(max(days, low), high)


def missing_settings(name: str, missing: Sequence[str]) -> ConfigurationError:
    """The error for a connection that cannot sync yet: which settings, and the command."""
    flags = " ".join(f"--{setting.replace('_', '-')} ID" for setting in missing)
    return ConfigurationError(
        f"connection {name!r} is missing settings: {', '.join(missing)}.",
        f"Set them with `ledgersync settings {name} {flags}`.",
    )


def change_settings(host: Host, name: str, change: SettingsChange) -> ConnectionInfo:
    """Apply ``change`` to connection ``name``, validating accounts with the destination.

    Every problem is found before anything is saved: one raises its own ConfigurationError,
    several raise :class:`SettingsRejected` listing each (the web form shows them all)."""
    current = connection_summary(host, name)
    source = host.plugins.source(current.source)
    problems = _problems(change, dict(source.channels))
    merged = {
        role: getattr(change, role) or getattr(current.settings, role) for role in ROLE_SETTINGS
    }
    extra = dict(current.settings.extra)
    if change.tax is not None:
        extra["tax"] = change.tax.strip() or "none"
    for key, value in (change.currency_accounts or {}).items():
        if value.strip().lower() == "none":
            extra.pop(key, None)
        else:
            extra[key] = value.strip()
    if change.api_share is not None:
        if not 1 <= change.api_share <= 100:
            problems.append(
                ConfigurationError(
                    f"API share {change.api_share}% is not between 1 and 100.",
                    "Use e.g. --api-share 80 (the default).",
                )
            )
        extra["api_share"] = str(change.api_share)
    for option in GROUPING_OPTIONS:
        value = getattr(change, option)
        if value is None:
            continue
        if value not in (DAILY, CHARGE):
            problems.append(
                ConfigurationError(
                    f"--{option} {value!r} is neither daily nor charge.",
                    f"Use --{option} daily (one per business day) or --{option} charge.",
                )
            )
        extra[option] = value
    if change.refund_lookback is not None:
        low, high = REFUND_LOOKBACK_RANGE
        if not low <= change.refund_lookback <= high:
            problems.append(
                ConfigurationError(
                    f"refund look-back {change.refund_lookback} days is not between {low} and "
                    f"{high}.",
                    f"Use e.g. --refund-lookback {REFUND_LOOKBACK_DAYS} (the default).",
                )
            )
        extra["refund_lookback_days"] = str(change.refund_lookback)
    if change.touches_accounts():
        # Accounts may be set one at a time; the destination checks them once all are set.
        candidate = AccountSettings(**merged, extra=extra)
        try:
            _validate_accounts(host, name, current.id, candidate)
        except ConfigurationError as error:
            problems.append(error)
    _reject(problems)
    with host.database.session() as session:
        row = get_connection(session, name)
        settings: dict[str, Any] = dict(row.settings or {})
        settings.update({role: value for role, value in merged.items() if value})
        if extra or settings.get("extra"):
            settings["extra"] = extra
        if settings != (row.settings or {}):  # documents written before keep their settings
            keep_replaced(session, row.id, dict(row.settings or {}), utcnow())
        row.settings = settings
        if change.mode is not None:
            row.mode = change.mode
        if change.channels is not None:
            chosen = [c for c in change.channels if c != "all"]
            row.channels = None if not chosen or "all" in change.channels else sorted(set(chosen))
        if change.timezone is not None:
            row.timezone = change.timezone
        if change.sync_time is not None:
            row.sync_time = change.sync_time
        if change.notify_emails is not None:
            row.notify_emails = list(change.notify_emails)
        return connection_info(row)


def _validate_accounts(
    host: Host, name: str, connection_id: int, candidate: AccountSettings
) -> None:
    destination, calls = host.open_destination(name)
    if candidate.missing():
        return
    try:
        destination.validate(candidate)
    finally:
        with host.database.session() as session:
            calls.flush(session, connection_id)


def connection_summary(host: Host, name: str) -> ConnectionInfo:
    with host.database.session() as session:
        return connection_info(get_connection(session, name))
