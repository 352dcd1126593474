"""``ledgersync demo --serve``: both stand-ins and the web page up together, to try by hand.

A connection ``demo`` is ready (connected both sides, accounts mapped, enabled from the start of
last month, not yet synced); the store and its key file sit together in one folder, where every
``ledgersync`` command finds them with ``--db``. It prints the web address and a login, the
commands to try, and how to connect each stand-in by hand (its kit's ``sandbox_notes``);
Ctrl-C (or SIGTERM) stops the page and both stand-ins and closes the store.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from core.cli.demo import DEMO_TIMEZONE, STORE_FILE, pick_kit, previous_month, refuse_used_folder
from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.host import Host
from core.plugins import get_plugins
from core.states import SyncMode
from core.store.repository import utcnow
from core.sync.interruption import interrupts_on_signals

__all__ = ["SANDBOX_CONNECTION", "run_sandbox"]

SANDBOX_CONNECTION = "demo"
READY = "ledgersync sandbox ready:"


def run_sandbox(
    *,
    workdir: Path | None,
    source: str | None,
    destination: str | None,
    seed: int,
    bind: str,
    port: int,
    echo: Callable[[str], None],
    now: datetime | None = None,
) -> None:
    """Serve the sandbox until Ctrl-C; the store stays in ``workdir`` when one is given."""
    # Flask loads only here, as for `ledgersync serve`.
    from core.scheduling.events import EventSyncLoop
    from core.web import create_app, make_server, serve_forever
    from core.web.operator import DEFAULT_USER, PASSWORD_ENV, load_operator, save_operator

    plugins = get_plugins()
    source_kit = pick_kit(plugins, "source", source)
    destination_kit = pick_kit(plugins, "destination", destination)
    if workdir is not None:
        refuse_used_folder(workdir)
    now = now or utcnow()
    start, days = previous_month(now, DEMO_TIMEZONE)
    name = SANDBOX_CONNECTION
    with ExitStack() as stack:
        # Ctrl-C and SIGTERM stop everything cleanly, also when started from a script with `&`
        # (SIGINT inherited as ignored).
        stack.enter_context(interrupts_on_signals())
        folder = workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="ledgersync-sandbox-"))
        )
        store = folder / STORE_FILE
        host = Host(f"sqlite:///{store}", plugins=plugins)
        stack.callback(host.close)
        source_fake: Any = stack.enter_context(source_kit())
        destination_fake: Any = stack.enter_context(destination_kit())
        source_fake.seed_demo(start, days, DEMO_TIMEZONE, seed)
        source_fake.connect(host, name, DEMO_TIMEZONE)
        accounts = destination_fake.connect(host, name)
        change_settings(
            host,
            name,
            SettingsChange.mapping(accounts, mode=SyncMode.BULK),
        )
        enable(host, name, since=start, now=now)
        login = f"user {DEFAULT_USER}, password from {PASSWORD_ENV}"
        if load_operator(host.key_file) is None:
            password = secrets.token_urlsafe(12)
            save_operator(host.key_file, DEFAULT_USER, password)
            login = f"user {DEFAULT_USER}, password {password} (made for this sandbox)"
        app = create_app(host)
        server = make_server(app, bind, port)
        page_url = f"http://{server.effective_host}:{server.effective_port}/"
        db = f"sqlite:///{store}"
        # Webhooks make their connection sync sooner, as under `ledgersync serve`; a kit that
        # can keep selling (and send its webhooks here) does so while the sandbox runs.
        event_syncs = EventSyncLoop(host)
        app.extensions["ledgersync.events"] = event_syncs.poke
        event_syncs.start()
        stack.callback(event_syncs.stop)
        live_notes: list[str] = []
        for kit in (source_fake, destination_fake):
            live = getattr(kit, "sandbox_live", None)
            if live is not None:
                live_notes += stack.enter_context(live(host, name, page_url))

        def ready(url: str) -> None:
            echo(f"ledgersync sandbox: {source_kit.name} -> {destination_kit.name}")
            echo(f"  store: {store} (its key file beside it: {host.key_file.name})")
            echo(
                f"  connection {name!r}: connected both sides, accounts mapped, Bulk mode, "
                f"enabled from {start.date()} ({DEMO_TIMEZONE}); {days} days of sales wait at "
                "the source, nothing is synced yet"
            )
            echo("")
            echo(f"Web page: {url}  ({login})")
            echo("")
            echo("Commands to try, in another terminal:")
            echo(f"  export LEDGERSYNC_DB={db}")
            for command in (
                f"ledgersync status {name}",
                f"ledgersync sync {name}",
                f"ledgersync ledger {name}",
                f"ledgersync history {name}",
                f"ledgersync why {name} CHARGE_ID",
                f"ledgersync settings {name} --mode individual",
                f"ledgersync disconnect {name}",
            ):
                echo(f"  {command}")
            for kit in (source_fake, destination_fake):
                notes = getattr(kit, "sandbox_notes", None)
                if notes is not None:
                    echo("")
                    for line in notes(name):
                        echo(line)
            if live_notes:
                echo("")
                for line in live_notes:
                    echo(line)
            echo("")
            echo(
                f"To connect from scratch (a source account connects to one connection at a "
                f"time): `ledgersync disconnect {name}` (or Disconnect on its page) first, then "
                "connect a new name with the values above."
            )
            echo("")
            kept = f"; the store stays in {folder}" if workdir else ""
            echo(f"{READY} {url} (Ctrl-C stops the page and both stand-ins{kept})")

        try:
            serve_forever(server, ready)
        except KeyboardInterrupt:  # it came before the page began serving: stop the same way
            server.close()
    echo(
        f"Sandbox stopped. The store is kept in {folder}: ledgersync --db {db} status"
        if workdir
        else "Sandbox stopped; its temporary store is deleted."
    )
