"""``ledgersync demo``: see the whole flow work locally in under half a minute; ``--serve``
keeps both stand-ins and the web page up to try everything by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.cli.demo import run_demo
from core.cli.sandbox import run_sandbox


@click.command("demo")
@click.option("--source", help="Source plugin to demo (default: the first with a stand-in).")
@click.option("--destination", help="Destination plugin to demo.")
@click.option("--seed", default=2026, show_default=True, help="Seed for the generated sales.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the store and its key in this (new or empty) folder, where the CLI finds them "
    "with --db sqlite:///FOLDER/ledgersync.sqlite.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Keep both stand-ins and the web page up with connection 'demo' ready, until Ctrl-C.",
)
@click.option(
    "--host", "bind", default="127.0.0.1", show_default=True, help="With --serve: address."
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="With --serve: the web page's port (0: any free one).",
)
def demo_command(
    source: str | None,
    destination: str | None,
    seed: int,
    keep: Path | None,
    serve: bool,
    bind: str,
    port: int,
) -> None:
    """Run the whole sync against local stand-ins: no account, no network."""
    if keep:
        keep = keep.resolve()
        keep.mkdir(parents=True, exist_ok=True)
    if serve:
        run_sandbox(
            workdir=keep,
            source=source,
            destination=destination,
            seed=seed,
            bind=bind,
            port=port,
            echo=click.echo,
        )
        return
    result = run_demo(
        workdir=keep, source=source, destination=destination, seed=seed, echo=click.echo
    )
    if not result.ties_out:
        sys.exit(1)


COMMANDS = [demo_command]
