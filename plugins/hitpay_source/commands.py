"""``ledgersync hitpay connect``: verify a HitPay API key and store it for a connection."""

from __future__ import annotations

import click

from core.api import (
    Host,
    check_event_timing,
    event_timing,
    load_connection,
    pass_host,
    safe,
    set_event_timing,
)
from plugins.hitpay_source.connecting import (
    api_url_for,
    connect_business,
    store_webhook_salt,
    webhook_url,
    where,
)
from plugins.hitpay_source.settings import LIVE_URL, SANDBOX_URL

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
@click.option(
    "--timezone",
    help="The business's IANA time zone, e.g. Asia/Singapore: it decides where each day "
    "of sales begins. Without it UTC is assumed (and said).",
)
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
    if not api_key.strip():
        raise click.UsageError("the HitPay API key is empty.")
    url = api_url_for(sandbox, api_url)
    connection = connect_business(host, name, api_key=api_key, api_url=url, timezone=timezone)
    shown = safe(connection.name)
    click.echo(
        f"Connected {shown} to HitPay ({where(url)}); the key works and is stored "
        f"encrypted. Business time zone: {connection.timezone.key}."
    )
    if timezone is None and connection.timezone.key == "UTC":
        click.echo(
            "WARNING: no --timezone given, so UTC was ASSUMED as the business's time zone: "
            "each day's sales are cut at midnight UTC. If the business is elsewhere, set it "
            f"now: `ledgersync settings {shown} --timezone Asia/Singapore` (your zone).",
            err=True,
        )
    if not connection.destination:
        click.echo(f"Next: connect the books, e.g. `ledgersync zoho connect {shown}`.")


@hitpay_group.command("webhook")
@click.argument("name")
@click.option(
    "--salt",
    envvar="HITPAY_WEBHOOK_SALT",
    prompt="Webhook salt",
    hide_input=True,
    help="The webhook endpoint's salt from HitPay's dashboard (or HITPAY_WEBHOOK_SALT, or "
    "type it at the hidden prompt).",
)
@click.option(
    "--api-salt",
    envvar="HITPAY_API_SALT",
    default=None,
    help="The salt beside the API key (Settings > API Keys; or HITPAY_API_SALT): it signs the "
    "older form-encoded payment webhooks. Optional.",
)
@click.option(
    "--public-url",
    envvar="LEDGERSYNC_PUBLIC_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where HitPay reaches `ledgersync serve` (or LEDGERSYNC_PUBLIC_URL).",
)
@click.option(
    "--every",
    type=float,
    help="Event syncs start at most once per this many minutes (default 15).",
)
@click.option(
    "--quiet",
    type=float,
    help="Seconds after the first event before its sync, so a burst is one sync (default 60).",
)
@pass_host
def webhook(
    host: Host,
    name: str,
    salt: str,
    api_salt: str | None,
    public_url: str,
    every: float | None,
    quiet: float | None,
) -> None:
    """Take HitPay's webhooks for connection NAME: store the endpoint's salt encrypted (never
    printed) and print the URL to register in HitPay's dashboard. Events make the connection
    sync sooner; the daily sync still reads everything."""
    url = webhook_url(public_url, name)
    check_event_timing(every_minutes=every, quiet_seconds=quiet)
    connection = store_webhook_salt(host, name, salt, api_salt=api_salt)
    set_event_timing(host.database, name, every_minutes=every, quiet_seconds=quiet)
    timing = event_timing(load_connection(host, name))
    shown = safe(connection.name)
    stored = "webhook salt and API salt" if api_salt is not None else "webhook salt"
    click.echo(f"Stored the {stored} of {shown}, encrypted.")
    click.echo(
        f"event syncs: {timing.quiet.total_seconds():g} s after the first event, at most every "
        f"{timing.every.total_seconds() / 60:g} min, within the API share the daily sync "
        "does not need."
    )
    click.echo(f"Register this URL in HitPay (events charge.created, charge.updated): {safe(url)}")
    if not url.startswith("https://"):
        click.echo(
            "HitPay registers only https URLs: put `ledgersync serve` behind a reverse proxy "
            "with TLS (docs/web.md) and give --public-url.",
            err=True,
        )
