"""``ledgersync enable``, ``disable`` and ``disconnect``."""

from __future__ import annotations

from datetime import datetime

import click

from core.cli.context import pass_host
from core.cli.output import safe
from core.connections.lifecycle import disable, disconnect, enable
from core.errors import ConfigurationError
from core.host import Host


@click.command("enable")
@click.argument("name")
@click.option(
    "--since",
    help="Start of the sync period, ISO 8601 with offset (default: now). "
    "A past value back-fills, and is logged as such.",
)
@pass_host
def enable_command(host: Host, name: str, since: str | None) -> None:
    """Enable sync: charges created from now (or --since) on are synced."""
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise ConfigurationError(
                f"--since {since!r} is not an ISO 8601 date-time.",
                "Use e.g. --since 2026-11-01T00:00+08:00.",
            ) from None
    period = enable(host, name, since=start)
    note = " (back-fill)" if period.backfill else ""
    click.echo(
        f"Sync enabled for {safe(name)}: charges created from "
        f"{period.started_at.isoformat()}{note} on are synced."
    )


@click.command("disable")
@click.argument("name")
@pass_host
def disable_command(host: Host, name: str) -> None:
    """Disable sync: charges created while disabled are skipped for good."""
    disable(host, name)
    click.echo(f"Sync disabled for {safe(name)}. Charges created while disabled will not sync.")


@click.command("disconnect")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_host
def disconnect_command(host: Host, name: str, yes: bool) -> None:
    """Disconnect NAME: revoke and delete credentials; keep the whole sync history."""
    if not yes:
        click.confirm(f"Disconnect {safe(name)}? Its history is kept.", abort=True)
    notes = disconnect(host, name)
    click.echo(f"Disconnected {safe(name)}. Its history is kept; reconnect at any time.")
    for note in notes:
        click.echo(f"  {safe(note)}")


COMMANDS = [enable_command, disable_command, disconnect_command]
