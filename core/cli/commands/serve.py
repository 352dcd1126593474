"""``ledgersync serve``: the integration page on this machine (see docs/web.md)."""

from __future__ import annotations

from functools import partial

import click

from core.cli.context import pass_host
from core.errors import ConfigurationError
from core.host import Host


@click.command("serve")
@click.option("--host", "bind", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--set-password",
    is_flag=True,
    help="Set the operator's password (asked twice, hidden), then exit.",
)
@click.option("--user", default="operator", show_default=True, help="With --set-password.")
@click.option(
    "--proxies",
    default=0,
    show_default=True,
    type=click.IntRange(0, 5),
    help="Reverse proxies in front whose X-Forwarded-For/-Proto/-Host to trust.",
)
@click.option(
    "--workers",
    is_flag=True,
    help="Enqueue event syncs for the Celery workers (LEDGERSYNC_BROKER_URL) instead of running "
    "them in this process.",
)
@pass_host
def serve_command(
    host: Host, bind: str, port: int, set_password: bool, user: str, proxies: int, workers: bool
) -> None:
    """Serve the web page: connections, settings, Sync Now, history, ledger, quarantine."""
    # Flask loads only for this command: every other command starts without it.
    from core.web import create_app, make_server, serve_forever
    from core.web.operator import PASSWORD_ENV, load_operator, save_operator
    from core.web.server import is_loopback

    if set_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        operator = save_operator(host.key_file, user, password)
        click.echo(f"Password set for {operator.user}. Start the page with `ledgersync serve`.")
        return
    if load_operator(host.key_file) is None:
        raise ConfigurationError(
            "no operator password is set, so nobody could log in.",
            f"Set one with `ledgersync serve --set-password` or {PASSWORD_ENV}.",
        )
    if not is_loopback(bind):
        click.echo(
            f"Serving on {bind}, beyond this machine: put it behind a reverse proxy with TLS "
            "(docs/web.md).",
            err=True,
        )
    from core.scheduling.events import EventSyncLoop

    app = create_app(host, trusted_proxies=proxies)
    server = make_server(app, bind, port)

    def on_start(url: str) -> None:
        click.echo(f"ledgersync serve: {url} (Ctrl-C stops it)")

    if workers:  # webhooks enqueue their connection's event sync, once per window
        from core.scheduling.workers.app import enqueue_event_syncs

        app.extensions["ledgersync.events"] = partial(enqueue_event_syncs, host)
        serve_forever(server, on_start)
        return
    event_syncs = EventSyncLoop(host)  # webhooks make their connection sync sooner, here
    app.extensions["ledgersync.events"] = event_syncs.poke
    event_syncs.start()
    try:
        serve_forever(server, on_start)
    finally:
        event_syncs.stop()


COMMANDS = [serve_command]
