"""``ledgersync zoho``: connect an organization (browser or Self Client), pick accounts, items."""

from __future__ import annotations

import json
import secrets
import webbrowser
from typing import Any

import click

from core.api import (
    AuthorizationFailed,
    CallCounter,
    ConfigurationError,
    Host,
    LedgersyncError,
    arrival_lines,
    clock,
    load_connection,
    pass_host,
    safe,
)
from plugins.zoho_books.connecting import (
    OrganizationChoice,
    accounts_server,
    attach_organization,
    organizations,
    reachable,
    revoke_quietly,
)
from plugins.zoho_books.datacenters import DATACENTERS, endpoints_for
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.loopback import LoopbackReceiver
from plugins.zoho_books.oauth import OAuthClient

__all__ = ["zoho_group"]

ACCOUNT_TYPES = ("income", "expense", "other_current_liability", "bank")


@click.group("zoho")
def zoho_group() -> None:
    """Zoho Books: connect an organization, list accounts and items for the settings."""


def _browser_code(
    oauth: OAuthClient, *, port: int, open_browser: bool, wait_seconds: float
) -> tuple[str, str, str | None]:
    """Run the browser flow: (grant code, redirect URI, accounts server from the redirect)."""
    state = secrets.token_urlsafe(24)
    with LoopbackReceiver(port) as receiver:
        url = oauth.authorize_url(receiver.redirect_uri, state)
        click.echo("Opening Zoho's consent page in your browser. If it does not open, visit:")
        click.echo(url)
        if open_browser:
            webbrowser.open(url)
        query = receiver.wait(wait_seconds)
    if query is None:
        raise AuthorizationFailed(
            f"no answer from the browser within {wait_seconds:.0f} seconds.",
            "Run the command again, or use --grant-code with a Self Client code.",
            side="destination",
        )
    if not secrets.compare_digest(query.get("state", ""), state):
        raise AuthorizationFailed(
            "the browser's answer carried the wrong state; it was not started by this command.",
            "Run the command again and finish it in the browser window it opens.",
            side="destination",
        )
    if "error" in query or "code" not in query:
        raise AuthorizationFailed(
            f"Zoho did not grant access ({query.get('error', 'no code')}).",
            "Run the command again and accept the consent screen.",
            side="destination",
        )
    return query["code"], receiver.redirect_uri, query.get("accounts-server")


def _pick(organizations: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    by_id = {str(org["organization_id"]): org for org in organizations}
    if wanted or not by_id:
        return reachable(organizations, wanted or "")
    click.echo("Zoho Books organizations:")
    for org in organizations:
        default = " (default)" if org.get("is_default_org") else ""
        click.echo(
            f"  {safe(org['organization_id'])}  {safe(org.get('name'))}  "
            f"{safe(org.get('currency_code'))}{default}"
        )
    first = next((o for o in organizations if o.get("is_default_org")), organizations[0])
    choice = click.prompt(
        "Organization to connect",
        type=click.Choice(list(by_id)),
        default=str(first["organization_id"]),
    )
    return by_id[str(choice)]


@zoho_group.command("connect")
@click.argument("name")
@click.option(
    "--datacenter",
    required=True,
    type=click.Choice(list(DATACENTERS)),
    help="Where your Zoho account lives: books.zoho.eu is eu, books.zoho.com is com.",
)
@click.option("--accounts-url", help="Accounts server root, e.g. https://accounts.zoho.eu.")
@click.option("--api-url", help="API root, e.g. https://www.zohoapis.eu (api_domain wins).")
@click.option("--client-id", envvar="ZOHO_CLIENT_ID", help="OAuth client id (or ZOHO_CLIENT_ID).")
@click.option(
    "--client-secret",
    envvar="ZOHO_CLIENT_SECRET",
    help="OAuth client secret (better: ZOHO_CLIENT_SECRET, or you are asked).",
)
@click.option("--grant-code", help="A Self Client grant code (headless set-up, no browser).")
@click.option("--organization", help="Organization id (else you pick from a list).")
@click.option("--no-browser", is_flag=True, help="Print the consent URL instead of opening it.")
@click.option(
    "--redirect-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port for the consent redirect (0: any free port).",
)
@click.option(
    "--wait", "wait_seconds", type=click.FloatRange(0.1, 3600), default=300.0, hidden=True
)
@click.option(
    "--requests-per-minute",
    type=click.IntRange(1, 1_000_000),
    default=100,
    show_default=True,
    help="Client-side limit; Zoho Books allows 100 per minute per organization.",
)
@click.option("--unique-field", help="API name of a unique custom field for upserts.")
@click.option(
    "--exchange-rates",
    type=click.Choice(["zoho", "source"]),
    default="zoho",
    show_default=True,
    help="Rate of a foreign-currency document when the source gives none: the organization's "
    "own rate in Zoho Books, or none (the document is held with the reason).",
)
@click.option(
    "--take-over",
    is_flag=True,
    help="Claim the organization for this store even though another store claims it: only "
    "once that store is gone (deleted or lost). See `ledgersync claim --help`.",
)
@pass_host
def connect_command(
    host: Host,
    name: str,
    datacenter: str,
    accounts_url: str | None,
    api_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    grant_code: str | None,
    organization: str | None,
    no_browser: bool,
    redirect_port: int,
    wait_seconds: float,
    requests_per_minute: int,
    unique_field: str | None,
    exchange_rates: str,
    take_over: bool,
) -> None:
    """Connect connection NAME to a Zoho Books organization."""
    load_connection(host, name)  # the source side must exist first
    if not client_id:
        raise click.UsageError("give --client-id or set ZOHO_CLIENT_ID.")
    if not client_secret:
        client_secret = click.prompt("Client secret", hide_input=True)
    endpoints = endpoints_for(datacenter, accounts_url=accounts_url, api_url=api_url)
    oauth = OAuthClient(endpoints.accounts_url, client_id, str(client_secret), connection_name=name)
    if grant_code:
        grant = oauth.exchange_code(grant_code.strip(), None)
    else:
        code, redirect_uri, announced = _browser_code(
            oauth, port=redirect_port, open_browser=not no_browser, wait_seconds=wait_seconds
        )
        server = accounts_server(endpoints.accounts_url, announced)
        if server != oauth.accounts_url:
            oauth = OAuthClient(server, client_id, str(client_secret), connection_name=name)
        grant = oauth.exchange_code(code, redirect_uri)
    root = grant.api_domain or endpoints.api_url
    try:
        chosen = _pick(organizations(root, grant), organization)
    except (LedgersyncError, click.Abort):
        revoke_quietly(oauth, str(grant.refresh_token))
        raise
    choice = OrganizationChoice(
        datacenter, client_id, str(client_secret), requests_per_minute, unique_field, exchange_rates
    )
    attach_organization(
        host, name, oauth=oauth, grant=grant, api_url=root, organization=chosen, choice=choice
    )
    org_id = str(chosen["organization_id"])
    click.echo(
        f"Connected {safe(name)} to Zoho Books organization {safe(chosen.get('name'))} "
        f"({safe(org_id)}). Next: `ledgersync zoho accounts {safe(name)}` to pick the accounts."
    )
    for line in arrival_lines(host, name, clock.now(), take_over=take_over):
        click.echo(safe(line))


def _destination(host: Host, name: str) -> tuple[ZohoBooksDestination, CallCounter, int]:
    destination, calls = host.open_destination(name)
    if not isinstance(destination, ZohoBooksDestination):
        raise ConfigurationError(f"connection {name!r} does not write to Zoho Books.")
    return destination, calls, load_connection(host, name).id


@zoho_group.command("accounts")
@click.argument("name")
@click.option("--type", "account_type", type=click.Choice(ACCOUNT_TYPES), help="Only this type.")
@click.option("--refresh", is_flag=True, help="Read the chart of accounts from Zoho again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def accounts_command(
    host: Host, name: str, account_type: str | None, refresh: bool, as_json: bool
) -> None:
    """List the organization's accounts (ids for the settings)."""
    destination, calls, connection_id = _destination(host, name)
    try:
        rows = destination.accounts(account_type, refresh=refresh)
    finally:
        host.record_calls(calls, connection_id)
    if as_json:
        click.echo(json.dumps([_account(row) for row in rows], indent=2))
        return
    if not rows:
        click.echo("No accounts" + (f" of type {account_type}." if account_type else "."))
    for row in rows:
        state = "" if row.is_active else "  (inactive)"
        click.echo(
            f"{safe(row.account_id)}  {safe(row.account_type):<24}  {safe(row.account_name)}{state}"
        )


def _account(row: Any) -> dict[str, Any]:
    return {
        "account_id": row.account_id,
        "account_name": row.account_name,
        "account_type": row.account_type,
        "is_active": row.is_active,
    }


@zoho_group.command("items")
@click.argument("name")
@click.option("--refresh", is_flag=True, help="Read the items from Zoho again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def items_command(host: Host, name: str, refresh: bool, as_json: bool) -> None:
    """List the organization's items (the default item for invoice lines)."""
    destination, calls, connection_id = _destination(host, name)
    try:
        rows = destination.items(refresh=refresh)
    finally:
        host.record_calls(calls, connection_id)
    if as_json:
        data = [{"item_id": i.item_id, "name": i.name, "is_active": i.is_active} for i in rows]
        click.echo(json.dumps(data, indent=2))
        return
    for item in rows:
        state = "" if item.is_active else "  (inactive)"
        click.echo(f"{safe(item.item_id)}  {safe(item.name)}{state}")


@zoho_group.command("taxes")
@click.argument("name")
@click.option("--refresh", is_flag=True, help="Read the taxes from Zoho again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def taxes_command(host: Host, name: str, refresh: bool, as_json: bool) -> None:
    """List the organization's taxes (the id for `ledgersync settings NAME --tax`)."""
    destination, calls, connection_id = _destination(host, name)
    try:
        rows = destination.taxes(refresh=refresh)
    finally:
        host.record_calls(calls, connection_id)
    if as_json:
        data = [
            {
                "tax_id": t.tax_id,
                "tax_name": t.tax_name,
                "tax_percentage": t.tax_percentage,
                "tax_type": t.tax_type,
                "is_active": t.is_active,
            }
            for t in rows
        ]
        click.echo(json.dumps(data, indent=2))
        return
    if not rows:
        click.echo(
            "No taxes: the organization is not registered for a tax; "
            f"`ledgersync settings {safe(name)} --tax none` says so."
        )
    for tax in rows:
        state = "" if tax.is_active else "  (inactive)"
        click.echo(
            f"{safe(tax.tax_id)}  {safe(tax.tax_percentage):>6}%  {safe(tax.tax_name)}{state}"
        )
