"""HitPay source: charges, fees and refunds from HitPay's API."""

from __future__ import annotations

import click

from core.api import Manifest, RegisterPages, RegisterSource, RegisterStandIn, hookimpl

MANIFEST = Manifest(
    name="hitpay",
    version="0.1.0",
    summary="HitPay payment gateway as a source: charges, fees, refunds, sales channels.",
    provides=("source:hitpay", "command:hitpay"),
    depends=("requests",),
)


@hookimpl
def register_sources(register: RegisterSource) -> None:
    from plugins.hitpay_source.source import HitPaySource

    register(HitPaySource)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from plugins.hitpay_source.commands import hitpay_group

    cli.add_command(hitpay_group)


@hookimpl
def register_routes(register: RegisterPages) -> None:
    from plugins.hitpay_source.web import HitPayPages

    register(HitPayPages)


@hookimpl
def register_standins(register: RegisterStandIn) -> None:
    from plugins.hitpay_source.testing.kit import HitPayStandInKit

    register(HitPayStandInKit)
