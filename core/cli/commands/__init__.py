"""The operator's commands, added to the ``ledgersync`` group by :func:`add_operator_commands`."""

from __future__ import annotations

import click

from core.cli.commands import (
    demo,
    lifecycle,
    reconcile,
    reports,
    serve,
    settings,
    syncing,
    worker,
)


def add_operator_commands(cli: click.Group) -> None:
    for module in (settings, lifecycle, syncing, reports, reconcile, demo, worker, serve):
        for command in module.COMMANDS:
            cli.add_command(command)
