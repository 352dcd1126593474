"""``ledgersync verify``: are the delivered documents still as they were delivered?"""

from __future__ import annotations

import sys
from datetime import date

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.host import Host
from core.sync.verify import verify


@click.command("verify")
@click.argument("name")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only documents dated on or after this day (YYYY-MM-DD).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def verify_command(host: Host, name: str, since: object, as_json: bool) -> None:
    """Read NAME's delivered documents back and report what was deleted, voided or changed
    (amount, date). Nothing is overwritten. Exit 0 when clean, 1 when not."""
    day: date | None = since.date() if hasattr(since, "date") else None
    result = verify(host, name, since=day)
    if as_json:
        emit_json(result.to_json())
    else:
        for line in result.lines():
            click.echo(safe(line))
    if not result.clean:
        sys.exit(1)


COMMANDS = [verify_command]
