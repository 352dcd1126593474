"""File journal destination: documents as a double-entry journal (CSV or Beancount).

Useful on its own (a bookkeeper imports the file) and the proof that the host is generic: it
uses only what any third-party plugin can (``core`` contracts, documents, errors, hooks).

Config: ``path`` and ``format`` (``csv`` or ``beancount``; default from the suffix). The
double-entry scheme is in :mod:`.entries`, account naming and validation in :mod:`.accounts`,
exactly-once appends and torn-write repair in :mod:`.journal`, both formats in :mod:`.formats`.
"""

from __future__ import annotations

import click

from core.api import Manifest, RegisterDestination, hookimpl
from plugins.file_journal.destination import FileJournal

__version__ = "0.1.0"
__all__ = ["MANIFEST", "FileJournal"]

MANIFEST = Manifest(
    name="file_journal",
    version=__version__,
    summary="A double-entry journal file (CSV or Beancount) as a destination, exactly once.",
    provides=("destination:file_journal", "command:journal"),
)


@hookimpl
def register_destinations(register: RegisterDestination) -> None:
    register(FileJournal)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from plugins.file_journal.commands import journal_group

    cli.add_command(journal_group)
