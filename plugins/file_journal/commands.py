"""``ledgersync journal ...``: attach a journal file to a connection, check a journal."""

from __future__ import annotations

from pathlib import Path

import click

from core.api import Host, attach_destination, pass_host
from plugins.file_journal.config import JournalConfig
from plugins.file_journal.destination import journal_health
from plugins.file_journal.journal import JournalFile

__all__ = ["journal_group"]

FORMAT_CHOICE = click.Choice(["csv", "beancount"])


@click.group("journal")
def journal_group() -> None:
    """Double-entry journal files (CSV or Beancount) as a destination."""


@journal_group.command("attach")
@click.argument("name")
@click.option("--path", "path", required=True, type=click.Path(path_type=Path), help="File.")
@click.option("--format", "journal_format", type=FORMAT_CHOICE, help="Default: from suffix.")
@pass_host
def attach(host: Host, name: str, path: Path, journal_format: str | None) -> None:
    """Write connection NAME's documents to the journal at PATH."""
    config = JournalConfig.from_mapping({"path": str(path), "format": journal_format})
    health = journal_health(config)
    if not health.ok:
        raise click.ClickException(f"cannot use {config.path}: {health.detail}.")
    attach_destination(
        host,
        name,
        destination="file_journal",
        organization=str(config.path),
        config={"path": str(config.path), "format": config.format.name},
        secrets={},
    )
    click.echo(f"{name} now writes a {config.format.name} journal to {config.path}.")


@journal_group.command("check")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "journal_format", type=FORMAT_CHOICE, help="Default: from suffix.")
def check(path: Path, journal_format: str | None) -> None:
    """Read the journal at PATH: count its entries, repair a torn last entry, find copies."""
    config = JournalConfig.from_mapping({"path": str(path), "format": journal_format})
    journal = JournalFile(config.path, config.format)
    keys = journal.keys()
    copies = sorted(key for key, count in keys.items() if count > 1)
    if journal.repairs:
        click.echo(f"Repaired a torn last entry; its bytes are in {journal.torn_path}.")
    click.echo(f"{config.path}: {len(keys)} entries.")
    if copies:
        raise click.ClickException(f"{len(copies)} keys appear more than once: {copies[0]} ...")
