"""The operator's commands, added to the ``ledgersync`` group by :func:`add_operator_commands`."""

from __future__ import annotations

import click

from core.cli.commands import (
    claiming,
    demo,
    lifecycle,
    notifying,
    reconcile,
    recovery,
    reports,
    rollback,
    serve,
    settings,
    syncing,
    verify,
    worker,
)


def add_operator_commands(cli: click.Group) -> None:
    modules = (
        settings,
        lifecycle,
        syncing,
        reports,
        reconcile,
        verify,
        recovery,
        rollback,
        demo,
        worker,
        serve,
        notifying,
        claiming,
    )
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)
