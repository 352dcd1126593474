"""``ledgersync worker``: a Celery worker in the foreground (needs ``ledgersync[celery]``)."""

from __future__ import annotations

import os

import click

from core.cli.context import HostHolder
from core.errors import ConfigurationError

__all__ = ["COMMANDS", "worker_command"]


@click.command("worker")
@click.option(
    "--concurrency", "-c", type=click.IntRange(min=1), help="Syncs at once (default: CPUs)."
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="How the worker runs syncs: child processes, in its own process, or threads.",
)
@click.option("--beat", is_flag=True, help="Also run beat in this process (one per deployment).")
@click.option(
    "--schedule",
    "schedule_file",
    type=click.Path(dir_okay=False),
    help="Beat's state file with --beat (default: celerybeat-schedule here).",
)
@click.option("--name", "-n", "node", help="Worker node name (default: ledgersync@HOSTNAME).")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
def worker_command(
    concurrency: int | None,
    pool: str,
    beat: bool,
    schedule_file: str | None,
    node: str | None,
    loglevel: str,
) -> None:
    """Run a Celery worker that syncs due connections (Ctrl-C stops it after its syncs).

    Reads LEDGERSYNC_BROKER_URL (default redis://127.0.0.1:6379/0) and the store from --db or
    LEDGERSYNC_DB; every worker and beat must share the store and LEDGERSYNC_SECRET_KEY.
    """
    holder = click.get_current_context().find_object(HostHolder)
    if holder is not None:
        holder.get()  # a missing store is named now, not in every job the worker takes
        if holder.db_url:
            os.environ["LEDGERSYNC_DB"] = holder.db_url  # pool processes inherit it
    try:
        from core.scheduling.workers.app import app
    except ImportError as missing:
        raise ConfigurationError(
            f"the worker needs Celery, which is not installed ({missing.name}).",
            "Install the extra: pip install 'ledgersync[celery]'.",
        ) from None
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--pool={pool}",
        f"--hostname={node or 'ledgersync@%h'}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv.append("--beat")
        if schedule_file:
            argv.append(f"--schedule={schedule_file}")
    app.worker_main(argv)


COMMANDS = [worker_command]
