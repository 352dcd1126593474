"""``ledgersync demo``: see the whole flow work locally in under half a minute."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.cli.demo import run_demo


@click.command("demo")
@click.option("--source", help="Source plugin to demo (default: the first with a stand-in).")
@click.option("--destination", help="Destination plugin to demo.")
@click.option("--seed", default=2026, show_default=True, help="Seed for the generated sales.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's store in this folder instead of a temporary one.",
)
def demo_command(source: str | None, destination: str | None, seed: int, keep: Path | None) -> None:
    """Run the whole sync against local stand-ins: no account, no network."""
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    result = run_demo(
        workdir=keep, source=source, destination=destination, seed=seed, echo=click.echo
    )
    if not result.ties_out:
        sys.exit(1)


COMMANDS = [demo_command]
