"""``ledgersync claim``: which store writes to a connection's organization; take it over."""

from __future__ import annotations

import click

from core import clock
from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.connections.setup import load_connection
from core.contracts import ClaimKeeper
from core.host import Host
from core.sync.claims import claim_id, claim_organization, describe, stale_after


@click.command("claim")
@click.argument("name")
@click.option(
    "--take-over",
    is_flag=True,
    help="Claim the organization for this store, replacing another store's claim. Only once "
    "that store is gone (deleted or lost): two live stores would book everything twice.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def claim_command(host: Host, name: str, take_over: bool, as_json: bool) -> None:
    """Which ledgersync store writes to NAME's organization (one live store per organization);
    --take-over claims it for this store after the other one was lost."""
    connection = load_connection(host, name)
    now = clock.now()
    destination, calls = host.open_destination(name)
    try:
        if not isinstance(destination, ClaimKeeper):
            click.echo(f"{safe(connection.destination)} keeps no claim; nothing to check.")
            return
        mine = claim_id(host.database, connection.id, now)
        if take_over:
            outcome = claim_organization(
                host.database, connection.id, destination, now, take_over=True
            )
            held = outcome.claim if outcome else None
            replaced = outcome.replaced if outcome else None
        else:
            held, replaced = destination.read_claim(), None
    finally:
        with host.database.session() as session:
            calls.flush(session, connection.id)
    ours = held is not None and held.holder == mine
    if as_json:
        emit_json(
            {
                "connection": name,
                "this_store": mine,
                "claimed_by": None
                if held is None
                else {
                    "store": held.holder,
                    "connection": held.connection,
                    "host": held.host,
                    "last_seen": held.seen_at.isoformat(),
                },
                "this_store_holds_it": ours,
                "taken_over_from": replaced.holder if replaced else None,
            }
        )
        return
    if replaced is not None:
        click.echo(f"Took the organization of {safe(name)} over from {safe(describe(replaced))}.")
        click.echo("The next sync adopts what that store wrote (binds it, creates nothing again).")
    elif held is None:
        click.echo(f"No store claims the organization of {safe(name)}: the next sync claims it.")
    elif ours:
        click.echo(f"This store claims the organization of {safe(name)}: {safe(describe(held))}.")
    else:
        days = stale_after().total_seconds() / 86400
        click.echo(
            f"Another store claims the organization of {safe(name)}: {safe(describe(held))}. "
            f"Syncs from this store are refused until that claim is {days:g} days old, or "
            f"`ledgersync claim {safe(name)} --take-over` once that store is gone."
        )


COMMANDS = [claim_command]
