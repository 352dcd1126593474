"""Zoho Books destination: invoices, payments, expenses, credit notes, exactly once."""

from __future__ import annotations

import click

from core.api import Manifest, RegisterDestination, RegisterPages, RegisterStandIn, hookimpl

MANIFEST = Manifest(
    name="zoho_books",
    version="0.1.0",
    summary="Zoho Books as a destination: OAuth, datacenters, limits, exactly-once writes.",
    provides=("destination:zoho_books", "command:zoho"),
    depends=("requests",),
)


@hookimpl
def register_destinations(register: RegisterDestination) -> None:
    from plugins.zoho_books.destination import ZohoBooksDestination

    register(ZohoBooksDestination)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from plugins.zoho_books.commands import zoho_group

    cli.add_command(zoho_group)


@hookimpl
def register_routes(register: RegisterPages) -> None:
    from plugins.zoho_books.web import ZohoBooksPages

    register(ZohoBooksPages)


@hookimpl
def register_standins(register: RegisterStandIn) -> None:
    from plugins.zoho_books.testing.kit import ZohoBooksStandInKit

    register(ZohoBooksStandInKit)
