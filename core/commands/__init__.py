"""The operator's commands, added to the ``ledgersync`` group by :func:`add_operator_commands`."""

from __future__ import annotations

import click

from core.commands import demo, lifecycle, reports, settings, syncing
from core.workers import command as workers


def add_operator_commands(cli: click.Group) -> None:
    for module in (settings, lifecycle, syncing, reports, demo, workers):
        for command in module.COMMANDS:
            cli.add_command(command)
