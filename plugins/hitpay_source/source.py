"""The HitPay Source: sales and refunds of one HitPay business."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

from core.api import (
    AuthorizationFailed,
    BadRecord,
    Charge,
    ConfigurationError,
    Fetched,
    FetchWindow,
    GatewayBalance,
    Health,
    LedgersyncError,
    PluginContext,
    Quarantined,
)
from plugins.hitpay_source.channels import CHANNELS
from plugins.hitpay_source.client import ChargeNotFound, HitPayClient
from plugins.hitpay_source.dates import listing_dates
from plugins.hitpay_source.parsing import (
    SALE_STATUSES,
    not_a_sale,
    parse_charge,
    read_listed_charge,
)
from plugins.hitpay_source.payouts import fetch_payouts, read_balances
from plugins.hitpay_source.refunds import discover_refunds
from plugins.hitpay_source.settings import ClientSettings

__all__ = ["HitPaySource", "key_fingerprint"]


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible name for the business behind a key (HitPay's API has no
    endpoint that returns the business itself)."""
    return "key-sha256:" + hashlib.sha256(api_key.encode()).hexdigest()


class HitPaySource:
    """Charges created in a window, refunds discovered on recently refunded charges, and the
    payouts that settle them."""

    name: ClassVar[str] = "hitpay"
    display_name: ClassVar[str] = "HitPay"
    channels: ClassVar[Mapping[str, str]] = CHANNELS

    def __init__(self, context: PluginContext) -> None:
        self._context = context
        self._settings = ClientSettings.from_config(context.config)
        self._client: HitPayClient | None = None

    def __repr__(self) -> str:
        connection = self._context.connection.name
        return f"HitPaySource({self._settings.api_url!r}, connection={connection!r})"

    def _api_key(self) -> str:
        key = self._context.vault.get("api_key")
        if not key:
            name = self._context.connection.name
            raise ConfigurationError(
                f"connection {name!r} has no HitPay API key stored.",
                f"Run `ledgersync hitpay connect {name}`.",
            )
        return key

    @property
    def client(self) -> HitPayClient:
        if self._client is None:
            self._client = HitPayClient(
                self._api_key(), self._settings, on_request=self._context.calls.count
            )
        return self._client

    def account_id(self) -> str:
        return key_fingerprint(self._api_key())

    def fetch(
        self, window: FetchWindow, state: MutableMapping[str, Any]
    ) -> Iterator[Fetched | Quarantined]:
        date_from, date_to = listing_dates(window.start, window.end)
        seen: set[str] = set()
        for item in self.client.iter_charges(date_from, date_to):
            record = read_listed_charge(item, window)
            if record is not None:
                if record.source_id:
                    seen.add(record.source_id)
                yield record
        yield from discover_refunds(self.client, window, state, seen)
        yield from fetch_payouts(self.client, window, state)

    def balances(self) -> Mapping[str, GatewayBalance]:
        """What HitPay holds per currency (``GET /v1/balances``), for ``ledgersync reconcile``."""
        return read_balances(self.client)

    def lookup(self, charge_id: str) -> Charge | None:
        """One charge by id (for `ledgersync why`): the sale, or None when HitPay does not
        know the id. BadRecord says why a charge that exists is not a sale that syncs."""
        try:
            payload = self.client.charge(charge_id)
        except ChargeNotFound:
            return None
        status = payload.get("status")
        if status not in SALE_STATUSES:
            raise BadRecord(not_a_sale(status))
        return parse_charge(payload)

    def health(self) -> Health:
        try:
            self.client.check_key()
        except AuthorizationFailed as error:
            return Health(ok=False, detail=str(error), authorization_failed=True)
        except LedgersyncError as error:
            return Health(ok=False, detail=str(error))
        return Health(ok=True, detail=f"HitPay answered at {self._settings.api_url}")
