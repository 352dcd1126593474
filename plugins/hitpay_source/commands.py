"""``ledgersync hitpay connect``: verify a HitPay API key and store it for a connection."""

from __future__ import annotations

import click

from core.cli.main import pass_host
from core.cli.output import safe
from core.connections.setup import check_timezone, connect_source
from core.host import Host
from plugins.hitpay_source.client import HitPayClient
from plugins.hitpay_source.settings import LIVE_URL, SANDBOX_URL, ClientSettings, check_api_url
from plugins.hitpay_source.source import key_fingerprint

__all__ = ["hitpay_group"]


@click.group("hitpay")
def hitpay_group() -> None:
    """HitPay, the payment gateway: connect a business as a source."""


@hitpay_group.command("connect")
@click.argument("name")
@click.option(
    "--api-key",
    envvar="HITPAY_API_KEY",
    prompt="HitPay API key",
    hide_input=True,
    help="The business's API key (or set HITPAY_API_KEY, or type it at the hidden prompt).",
)
@click.option("--sandbox", is_flag=True, help=f"Use HitPay's sandbox ({SANDBOX_URL}).")
@click.option("--api-url", help=f"Another API root; the default is {LIVE_URL}.")
@click.option("--timezone", help="The business's IANA time zone, e.g. Asia/Singapore.")
@pass_host
def connect(
    host: Host,
    name: str,
    api_key: str,
    sandbox: bool,
    api_url: str | None,
    timezone: str | None,
) -> None:
    """Connect HitPay business NAME: the key is checked with a real call, then stored
    encrypted. Never printed."""
    if sandbox and api_url:
        raise click.UsageError("give --sandbox or --api-url, not both.")
    url = check_api_url(SANDBOX_URL if sandbox else api_url or LIVE_URL)
    if timezone:
        check_timezone(timezone)
    key = api_key.strip()
    if not key:
        raise click.UsageError("the HitPay API key is empty.")
    client = HitPayClient(key, ClientSettings(api_url=url))
    try:
        client.check_key()
    finally:
        client.close()
    connection = connect_source(
        host,
        name,
        source="hitpay",
        source_account=key_fingerprint(key),
        config={"api_url": url},
        secrets={"api_key": key},
        timezone=timezone,
    )
    where = "the sandbox" if url == SANDBOX_URL else "live" if url == LIVE_URL else url
    shown = safe(connection.name)
    click.echo(
        f"Connected {shown} to HitPay ({where}); the key works and is stored "
        f"encrypted. Business time zone: {connection.timezone.key}."
    )
    if not connection.destination:
        click.echo(f"Next: connect the books, e.g. `ledgersync zoho connect {shown}`.")
