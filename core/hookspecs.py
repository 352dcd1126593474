"""The plugin contract: every hook the host calls, typed and documented.

Hooks are always called with keyword arguments; an implementation may accept fewer
arguments than its spec. Each hook has a heading in ``docs/plugin_hooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import pluggy

from core.contracts import (
    ConnectionInfo,
    Destination,
    DestinationStandIn,
    Mapper,
    Notifier,
    RunInfo,
    RunSummary,
    Source,
    SourceStandIn,
)
from core.pages import RegisterPages

hookspec = pluggy.HookspecMarker("ledgersync")
hookimpl = pluggy.HookimplMarker("ledgersync")

# One register type per hook: a plugin's ``register(cls)`` is checked against the protocol
# its hook expects.
RegisterSource = Callable[[type[Source]], None]
RegisterDestination = Callable[[type[Destination]], None]
RegisterMapper = Callable[[type[Mapper]], None]
RegisterNotifier = Callable[[type[Notifier]], None]
RegisterStandIn = Callable[[type[SourceStandIn] | type[DestinationStandIn]], None]
Register = Callable[[type[Any]], None]  # any of them: kept for plugins written before


@hookspec
def register_sources(register: RegisterSource) -> None:
    """Register Source classes (payment gateways) by calling ``register(cls)``."""


@hookspec
def register_destinations(register: RegisterDestination) -> None:
    """Register Destination classes (accounting systems) by calling ``register(cls)``."""


@hookspec
def register_mappers(register: RegisterMapper) -> None:
    """Register Mapper classes (how records become documents) by calling ``register(cls)``."""


@hookspec
def register_notifiers(register: RegisterNotifier) -> None:
    """Register Notifier classes (e-mail, log, ...) by calling ``register(cls)``."""


@hookspec
def register_standins(register: RegisterStandIn) -> None:
    """Register stand-in kits (local fake servers) that `ledgersync demo` and tests drive."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``ledgersync`` command line."""


@hookspec
def register_routes(register: RegisterPages) -> None:
    """Add pages to ``ledgersync serve``: ``register(cls)`` with a ``core.pages.PluginPages``."""


@hookspec
def sync_started(run: RunInfo) -> None:
    """Called when a sync of one connection starts."""


@hookspec
def sync_finished(run: RunInfo, summary: RunSummary) -> None:
    """Called when a sync ends, whatever its outcome (``summary.outcome``)."""


@hookspec
def connection_failed(connection: ConnectionInfo, error: str) -> None:
    """Called once when a connection's authorization fails and its sync pauses."""


@hookspec
def connection_restored(connection: ConnectionInfo) -> None:
    """Called once when a failed connection works again after a reconnect."""
