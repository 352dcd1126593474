"""``ledgersync verify``: are the delivered documents still as they were delivered?"""

from __future__ import annotations

import sys
from datetime import date

import click

from core.cli.context import pass_host
from core.cli.output import emit_json, safe
from core.host import Host
from core.store.repository import utcnow
from core.sync.repair import repair as repair_documents
from core.sync.verify import verify


@click.command("verify")
@click.argument("name")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only documents dated on or after this day (YYYY-MM-DD).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Deliver again, under a new key, what was deleted or voided (changes are only reported).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_host
def verify_command(host: Host, name: str, since: object, repair: bool, as_json: bool) -> None:
    """Read NAME's delivered documents back and report what was deleted, voided or changed
    (amount, date, account, customer). Nothing is overwritten; --repair delivers deleted and
    voided documents again, exactly once. Exit 0 when clean (or all repaired), 1 when not."""
    day: date | None = since.date() if hasattr(since, "date") else None
    result = verify(host, name, since=day)
    repaired = repair_documents(host, name, result.findings, utcnow()) if repair else None
    if as_json:
        data = result.to_json()
        if repaired is not None:
            data["repair"] = repaired.to_json()
        emit_json(data)
    else:
        for line in result.lines() + (repaired.lines() if repaired else []):
            click.echo(safe(line))
    if not (result.clean or (repaired is not None and repaired.complete)):
        sys.exit(1)


COMMANDS = [verify_command]
