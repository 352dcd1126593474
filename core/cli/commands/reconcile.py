"""``ledgersync reconcile``: do the gateway, the ledger and the books agree, per currency?"""

from __future__ import annotations

import sys

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.host import Host
from core.sync.reconcile import reconcile, to_text


@click.command("reconcile")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def reconcile_command(host: Host, name: str, as_json: bool) -> None:
    """Compare what the gateway holds, what the ledger expects and what the clearing account
    shows, per currency, and explain each difference. Exit 0 when it ties out, 1 when not."""
    result = reconcile(host, name)
    if as_json:
        emit_json(result.to_json())
    else:
        for line in to_text(result):
            click.echo(safe(line))
    if not result.ties:
        sys.exit(1)


COMMANDS = [reconcile_command]
