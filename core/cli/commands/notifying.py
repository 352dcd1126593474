"""``ledgersync notify-test NAME``: a test notice through every notifier (e.g. a test e-mail)."""

from __future__ import annotations

import sys

import click

from core.cli.context import pass_host
from core.cli.output import safe
from core.connections.alerts import notify
from core.connections.setup import load_connection
from core.contracts import Notice, NoticeKind
from core.host import Host
from core.store.repository import utcnow

__all__ = ["COMMANDS", "notify_test_command"]


@click.command("notify-test")
@click.argument("name")
@pass_host
def notify_test_command(host: Host, name: str) -> None:
    """Send a test notice for NAME through every notifier (a test e-mail to its addresses)."""
    connection = load_connection(host, name)
    notice = Notice(
        kind=NoticeKind.TEST,
        connection=connection,
        subject=f"ledgersync: test notice for {name}",
        message=f"This is a test notice for {name}: notices from ledgersync reach you.",
        hint="Nothing to do.",
        occurred_at=utcnow(),
    )
    notifiers = [str(getattr(cls, "name", cls.__name__)) for cls in host.plugins.notifiers()]
    failures = {failure.notifier: failure.error for failure in notify(host.plugins, notice)}
    for notifier in notifiers:
        outcome = f"FAILED: {failures[notifier]}" if notifier in failures else "sent"
        click.echo(f"{safe(notifier)}: {safe(outcome)}")
    if not notifiers:
        click.echo("No notifier is installed.")
    if failures or not notifiers:
        sys.exit(1)


COMMANDS = [notify_test_command]
