"""Connecting a HitPay business: the key checked with a real call, then stored encrypted.

`ledgersync hitpay connect` and the web page's Connect HitPay form both call
:func:`connect_business`.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from core.api import (
    ConfigurationError,
    ConnectionInfo,
    ConnectionStatus,
    Host,
    check_timezone,
    connect_source,
    load_connection,
)
from plugins.hitpay_source.client import HitPayClient
from plugins.hitpay_source.settings import LIVE_URL, SANDBOX_URL, ClientSettings, check_api_url
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.webhooks import API_SALT, SALT

__all__ = ["api_url_for", "connect_business", "store_webhook_salt", "webhook_url", "where"]


def api_url_for(sandbox: bool, api_url: str | None) -> str:
    """The API root: the sandbox, another root (a stand-in, a proxy), or live."""
    if sandbox and api_url:
        raise ConfigurationError("give --sandbox or --api-url, not both.")
    return check_api_url(SANDBOX_URL if sandbox else api_url or LIVE_URL)


def where(url: str) -> str:
    """The API root as people say it: the sandbox, live, or the URL itself."""
    return "the sandbox" if url == SANDBOX_URL else "live" if url == LIVE_URL else url


def connect_business(
    host: Host, name: str, *, api_key: str, api_url: str, timezone: str | None
) -> ConnectionInfo:
    """Check ``api_key`` against ``api_url`` with a real call; create or update connection
    ``name`` with it (stored encrypted, never shown again)."""
    url = check_api_url(api_url)
    if timezone:
        check_timezone(timezone)
    key = api_key.strip()
    if not key:
        raise ConfigurationError("the HitPay API key is empty.", "Paste the key from HitPay.")
    client = HitPayClient(key, ClientSettings(api_url=url))
    try:
        client.check_key()
    finally:
        client.close()
    return connect_source(
        host,
        name,
        source="hitpay",
        source_account=key_fingerprint(key),
        config={"api_url": url},
        secrets={"api_key": key},
        timezone=timezone,
    )


def webhook_url(base_url: str, name: str) -> str:
    """Where HitPay posts the events of connection ``name``: ``<base>/webhooks/hitpay/<name>``."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{base_url!r} is not the address of `ledgersync serve`.",
            "Give its public root, e.g. --public-url https://books.example.com",
        )
    return f"{base_url.strip().rstrip('/')}/webhooks/hitpay/{quote(name, safe='')}"


def store_webhook_salt(
    host: Host, name: str, salt: str, *, api_salt: str | None = None
) -> ConnectionInfo:
    """Store the salt of connection ``name``'s HitPay webhook endpoint, encrypted; and the
    API key's salt, which keys the older form-encoded payment webhooks, when given."""
    salt = salt.strip()
    if api_salt is not None and not api_salt.strip():
        raise ConfigurationError(
            "the API salt is empty.",
            "Copy it from HitPay's dashboard (Settings > API Keys), or leave --api-salt out.",
        )
    if not salt:
        raise ConfigurationError(
            "the webhook salt is empty.",
            "Copy it from HitPay's dashboard (Settings > Developers > Webhook Endpoints).",
        )
    connection = load_connection(host, name)
    if connection.source != "hitpay":
        raise ConfigurationError(
            f"connection {name!r} takes its records from {connection.source}, not HitPay.",
            "Give the name of a HitPay connection (`ledgersync connections` lists them).",
        )
    if connection.status == ConnectionStatus.DISCONNECTED:
        raise ConfigurationError(
            f"connection {name!r} is disconnected.",
            f"Reconnect it first with `ledgersync hitpay connect {name}`.",
        )
    host.vault(connection.id).set(SALT, salt)
    if api_salt is not None:
        host.vault(connection.id).set(API_SALT, api_salt.strip())
    return connection
