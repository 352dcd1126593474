"""The Zoho Books destination: what the host calls to deliver documents exactly once."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any, ClassVar

import requests

from core.api import (
    AccountBalance,
    AccountSettings,
    AuthorizationFailed,
    CallCosts,
    Claim,
    ConfigurationError,
    DeliveryContext,
    Document,
    Health,
    KeyValueCache,
    LedgersyncError,
    PluginContext,
    RemoteDocument,
)
from plugins.zoho_books.books_index import keys_in_books
from plugins.zoho_books.claim import read_claim, write_claim
from plugins.zoho_books.client import BooksClient, RetryPolicy
from plugins.zoho_books.clock import Clock, SystemClock
from plugins.zoho_books.costs import call_costs
from plugins.zoho_books.datacenters import Endpoints, endpoints_for
from plugins.zoho_books.deleting import DELETABLE_KINDS, delete_document
from plugins.zoho_books.limiter import SlidingWindowLimiter
from plugins.zoho_books.metadata import Account, Item, Metadata, Tax
from plugins.zoho_books.oauth import OAuthClient
from plugins.zoho_books.readback import CUSTOMER_KINDS, read_back
from plugins.zoho_books.run_cache import RunCache
from plugins.zoho_books.tokens import REFRESH_TOKEN, AccessTokens
from plugins.zoho_books.transfers import bank_account_balance
from plugins.zoho_books.writer import Writer

__all__ = ["REQUIRED_TYPES", "ZohoBooksDestination"]

# setting -> (role shown to people, Zoho account type it needs)
REQUIRED_TYPES: dict[str, tuple[str, str]] = {
    "sales_account": ("sales account", "income"),
    "fee_account": ("fee account", "expense"),
    "refund_account": ("refund account", "other_current_liability"),
    "bank_account": ("bank (clearing) account", "bank"),
}


def _endpoints(config: Any) -> Endpoints:
    datacenter = str(config.get("datacenter") or "com")
    endpoints = endpoints_for(
        datacenter,
        accounts_url=config.get("accounts_url") or None,
        api_url=config.get("api_url") or None,
    )
    return endpoints


class ZohoBooksDestination:
    """Invoices, payments, expenses, credit notes and refunds in one Zoho Books organization."""

    name: ClassVar[str] = "zoho_books"
    display_name: ClassVar[str] = "Zoho Books"
    deletable_kinds: ClassVar[frozenset[str]] = DELETABLE_KINDS  # rollback (core.contracts)

    def __init__(
        self,
        context: PluginContext,
        *,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        config = context.config
        self._context = context
        self._clock = clock or SystemClock()
        self._session = session or requests.Session()
        organization = config.get("organization_id")
        if not organization:
            raise ConfigurationError(
                f"connection {context.connection.name!r} has no Zoho Books organization.",
                f"Connect one with `ledgersync zoho connect {context.connection.name}`.",
            )
        self._organization_id = str(organization)
        self.endpoints = _endpoints(config)
        timeout = float(config.get("timeout_seconds") or 30)
        client_secret = context.vault.get("client_secret") or ""
        self.oauth = OAuthClient(
            self.endpoints.accounts_url,
            str(config.get("client_id") or ""),
            client_secret,
            session=self._session,
            clock=self._clock,
            calls=context.calls,
            timeout=timeout,
            connection_name=context.connection.name,
        )
        self.tokens = AccessTokens(
            context.vault, self.oauth, self._clock, connection_name=context.connection.name
        )
        self.limiter = SlidingWindowLimiter(
            int(config.get("requests_per_minute") or 100), self._clock
        )
        self.client = BooksClient(
            self.endpoints.books_url,
            self._organization_id,
            self.tokens,
            calls=context.calls,
            limiter=self.limiter,
            clock=self._clock,
            session=self._session,
            timeout=timeout,
            retry=retry,
            connection_name=context.connection.name,
        )
        prefix = str(config.get("customer_name") or f"{context.connection.source.title()} Customer")
        # The host builds a destination per run: metadata and draft records are read from the
        # store once a run, then from memory (writes still go to the store first).
        cache = RunCache(context.cache)
        self.metadata = Metadata(self.client, cache, customer_prefix=prefix)
        self.writer = Writer(
            self.client,
            self.metadata,
            cache,
            unique_field=config.get("unique_field") or None,
            payment_mode=str(config.get("payment_mode") or "others"),
            connection_name=context.connection.name,
            exchange_rates=str(config.get("exchange_rates") or "zoho"),
        )

    def __repr__(self) -> str:
        return f"ZohoBooksDestination(organization={self._organization_id!r})"

    @classmethod
    def call_costs(
        cls, config: Mapping[str, Any], cache: KeyValueCache, currencies: Collection[str]
    ) -> CallCosts:
        """Zoho calls per document kind and the per-minute limit, for the forecast."""
        return call_costs(config, cache, currencies)

    # -- the Destination protocol ----------------------------------------------------------

    def organization_id(self) -> str:
        return self._organization_id

    def validate(self, settings: AccountSettings) -> None:
        missing = settings.missing()
        if missing:
            raise ConfigurationError(
                f"settings incomplete: {', '.join(name.replace('_', ' ') for name in missing)}.",
                "Pick them with `ledgersync zoho accounts NAME` and `ledgersync zoho items NAME`.",
            )
        problems = [
            problem
            for setting, (role, needed) in REQUIRED_TYPES.items()
            if (problem := self._account_problem(getattr(settings, setting), role, needed))
        ]
        if settings.payout_account and (
            problem := self._account_problem(settings.payout_account, "payout account", "bank")
        ):
            problems.append(problem)
        problems += self._currency_problems(settings)
        if settings.adjustment_account:
            account = self.metadata.account(settings.adjustment_account)
            if account is None:
                problems.append(
                    f"adjustment account {settings.adjustment_account} does not exist in the "
                    "organization"
                )
            elif not account.is_active:
                problems.append(f"adjustment account {account.label()} is inactive")
        item = self.metadata.item(str(settings.item))
        if item is None:
            problems.append(f"item {settings.item} does not exist in the organization")
        elif not item.is_active:
            problems.append(f"item {item.name!r} ({item.item_id}) is inactive")
        tax_id = settings.extra.get("tax")
        if tax_id and tax_id != "none":
            tax = self.metadata.tax(tax_id)
            if tax is None:
                problems.append(
                    f"tax {tax_id} does not exist in the organization "
                    "(`ledgersync zoho taxes NAME` lists them)"
                )
            elif not tax.is_active:
                problems.append(f"tax {tax.label()} is inactive")
        if problems:
            raise ConfigurationError(
                "Zoho Books settings are wrong: " + "; ".join(problems) + ".",
                "Pick the right ones with `ledgersync zoho accounts NAME --type TYPE`.",
            )

    def _currency_problems(self, settings: AccountSettings) -> list[str]:
        """A bank account is kept in one currency (zoho.bankaccount.currency): each CUR=ID must
        be a bank account in CUR, and beside them the default must be in the base currency."""
        problems: list[str] = []
        for setting, role in (
            ("bank_account", "bank account"),
            ("payout_account", "payout account"),
        ):
            pairs = settings.by_currency(setting)
            for currency, account_id in sorted(pairs.items()):
                problem = self._account_problem(account_id, f"{role} for {currency}", "bank")
                kept = None if problem else bank_account_balance(self.client, account_id).currency
                if kept and kept != currency:
                    problem = f"{role} for {currency} ({account_id}) is kept in {kept}"
                if problem:
                    problems.append(problem)
            default = getattr(settings, setting)
            if not pairs or not default or self._account_problem(default, role, "bank"):
                continue
            kept = bank_account_balance(self.client, default).currency
            base = next(
                (c for c in self.metadata.currencies().values() if c.is_base_currency), None
            )
            if base is not None and kept != base.currency_code and kept not in pairs:
                problems.append(
                    f"the default {role} {default} is kept in {kept}, not the base currency "
                    f"{base.currency_code} (give it as {kept}={default})"
                )
        return problems or self._transfer_problems(settings)

    def _transfer_problems(self, settings: AccountSettings) -> list[str]:
        """A payout moves money from the clearing account to the payout account of its
        currency, and a transfer never crosses currencies (zoho.banktransaction.fx): where a
        currency has its own clearing or payout account, both must be kept in one currency."""
        problems: list[str] = []
        paired = (
            settings.by_currency("bank_account").keys()
            | settings.by_currency("payout_account").keys()
        )
        for currency in sorted(paired):
            clearing = settings.account_for("bank_account", currency)
            payout = settings.account_for("payout_account", currency)
            if not clearing or not payout:
                continue
            source = bank_account_balance(self.client, clearing).currency
            target = bank_account_balance(self.client, payout).currency
            if source != target:
                flag = "--payout-account" if source == currency else "--bank-account"
                problems.append(
                    f"{currency} payouts would move from {clearing} (kept in {source}) to "
                    f"{payout} (kept in {target}), and a transfer cannot cross currencies "
                    f"(give {flag} {currency}=ID as well)"
                )
        return problems

    def _account_problem(self, account_id: str, role: str, needed: str) -> str | None:
        account = self.metadata.account(account_id)
        if account is None:
            return f"{role} {account_id} does not exist in the organization"
        if not account.is_active:
            return f"{role} {account.label()} is inactive"
        if account.account_type != needed:
            return (
                f"{role} {account.label()} is of type {account.account_type}, "
                f"but it needs type {needed}"
            )
        return None

    def read_back(self, kinds: set[str]) -> Mapping[str, Mapping[str, RemoteDocument]]:
        """Delivered documents as Zoho Books holds them now, by listing (``verify``)."""
        return read_back(self.client, kinds)

    def written_with(self, kind: str, currency: str, settings: AccountSettings) -> RemoteDocument:
        """The account and customer a document of ``kind`` in ``currency`` is written with
        (``verify`` compares them with what Zoho Books shows now)."""
        account = {
            "invoice": settings.sales_account,
            "credit_note": settings.refund_account,
            "payment": settings.account_for("bank_account", currency),
            "expense": settings.fee_account,
            "transfer": settings.account_for("bank_account", currency),
        }.get(kind)
        customer = self.metadata.known_customer(currency) if kind in CUSTOMER_KINDS else None
        return RemoteDocument(amount=None, account=account, customer=customer)

    def account_balance(self, account_id: str) -> AccountBalance:
        """The books balance of a bank account (``GET /bankaccounts/{id}``), for reconcile."""
        return bank_account_balance(self.client, account_id)

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        return self.writer.find_existing(document, context)

    def keys_in_books(self, start: date, end: date) -> set[str]:
        """The keys of the invoices and expenses dated ``start`` to ``end`` (adoption)."""
        return keys_in_books(self.client, start, end)

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        return self.writer.deliver(document, context)

    def read_claim(self) -> Claim | None:
        """Which store writes to the organization (a contact's notes; ``claim.py``)."""
        return read_claim(self.client)

    def write_claim(self, claim: Claim) -> Claim:
        return write_claim(self.client, claim)

    def delete(self, remote_id: str, document: Document, context: DeliveryContext) -> None:
        """Take back a delivered document (``ledgersync rollback``; plugins/zoho_books/deleting)."""
        delete_document(self.client, remote_id, document, context)

    def health(self) -> Health:
        try:
            answer = self.client.request("GET", "/organizations", with_organization=False)
        except AuthorizationFailed as error:
            return Health(ok=False, detail=str(error), authorization_failed=True)
        except LedgersyncError as error:
            return Health(ok=False, detail=str(error))
        ids = {str(org.get("organization_id")) for org in answer.get("organizations") or []}
        if self._organization_id not in ids:
            return Health(
                ok=False,
                detail=f"organization {self._organization_id} is no longer reachable.",
                authorization_failed=True,
            )
        return Health(ok=True, detail=f"organization {self._organization_id} reachable")

    # -- pickers and disconnect ------------------------------------------------------------

    def accounts(self, account_type: str | None = None, *, refresh: bool = False) -> list[Account]:
        rows = self.metadata.accounts(refresh=refresh)
        return [a for a in rows if account_type is None or a.account_type == account_type]

    def items(self, *, refresh: bool = False) -> list[Item]:
        return self.metadata.items(refresh=refresh)

    def taxes(self, *, refresh: bool = False) -> list[Tax]:
        return self.metadata.taxes(refresh=refresh)

    def revoke(self) -> None:
        """Revoke the refresh token at Zoho (disconnect); the vault entries are the host's."""
        token = self._context.vault.get(REFRESH_TOKEN)
        if token:
            self.oauth.revoke(token)
