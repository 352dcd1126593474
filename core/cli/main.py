"""The ``ledgersync`` command line. Plugins add their commands through ``register_commands``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from core import __version__
from core.cli.commands import add_operator_commands
from core.cli.context import HostHolder, current_host, pass_host
from core.cli.errors import check_text, one_line, quiet_logging
from core.cli.output import safe
from core.host import Host
from core.plugins import get_plugins
from core.store.connection_records import connections_by_name

__all__ = ["build_cli", "current_host", "main", "pass_host"]


class LedgersyncGroup(click.Group):
    """Turns every error into one clear line and a non-zero exit, never a traceback
    (core/cli/errors.py says which line)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        check_text(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            holder = ctx.find_object(HostHolder)
            line = one_line(error, holder.db_url if holder else None)
            if line is None:
                raise
            raise line from None


# Commands that read or run: they never create a store or a secret key (a mistyped --db, a
# lost file or another user's cron must not start an empty store that books everything again).
READING_COMMANDS = frozenset(
    [
        "connections",
        "status",
        "history",
        "ledger",
        "why",
        "reconcile",
        "verify",
        "sync",
        "run-due",
        "scheduler",
        "worker",
        "settings",
        "enable",
        "disable",
        "disconnect",
        "quarantine",
        "backfill",
        "notify-test",
        "rollback",
        "repost",
    ]
)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def build_cli() -> click.Group:
    """A fresh command group with the built-in commands and every plugin's commands."""

    @click.group(cls=LedgersyncGroup)
    @click.version_option(__version__, prog_name="ledgersync")
    @click.option(
        "--db",
        "db_url",
        envvar="LEDGERSYNC_DB",
        help="SQLAlchemy URL of the store (default: a SQLite file in your data directory).",
    )
    @click.pass_context
    def cli(ctx: click.Context, db_url: str | None) -> None:
        """ledgersync: keep your books in step with your payment gateway, exactly once."""
        holder = HostHolder(db_url, create=ctx.invoked_subcommand not in READING_COMMANDS)
        ctx.obj = holder
        ctx.call_on_close(lambda: holder.host.close() if holder.host else None)

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def plugins_command(as_json: bool) -> None:
        """List installed plugins, their versions and the hooks each implements."""
        rows = get_plugins().describe()
        if as_json:
            _emit_json(rows)
            return
        for row in rows:
            if "error" in row:
                click.echo(f"{row['name']}: FAILED TO LOAD ({row['error']})")
                continue
            click.echo(f"{row['name']} {row['version']}: {row['summary'].strip()}")
            click.echo(f"    hooks: {', '.join(row['hooks'])}")

    @cli.command("connections")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_host
    def connections_command(host: Host, as_json: bool) -> None:
        """List connections."""
        with host.database.session() as session:
            rows = [
                {
                    "name": c.name,
                    "source": c.source,
                    "destination": c.destination,
                    "status": c.status,
                    "enabled": c.enabled,
                    "mode": c.mode,
                }
                for c in connections_by_name(session)
            ]
        if as_json:
            _emit_json(rows)
        elif not rows:
            click.echo("No connections yet. Start with `ledgersync <source> connect NAME`.")
        for row in [] if as_json else rows:
            state = "enabled" if row["enabled"] else "disabled"
            click.echo(
                f"{safe(row['name'])}: {row['source']} -> "
                f"{row['destination'] or '(no destination)'}, {row['status']}, {state}, "
                f"{row['mode']}"
            )

    @cli.group("db")
    def db_group() -> None:
        """Store maintenance."""

    @db_group.command("upgrade")
    @pass_host
    def db_upgrade(host: Host) -> None:
        """Create or upgrade the store's schema to the newest revision."""
        host.database.upgrade()
        click.echo(f"Store at revision {host.database.current_revision()}.")

    add_operator_commands(cli)
    get_plugins().add_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    quiet_logging()
    cli = build_cli()
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="ledgersync")
