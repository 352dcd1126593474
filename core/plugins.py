"""The plugin manager: the host's built-ins from a tuple, every other plugin by entry point.

Plugins load lazily, on the first call to :func:`get_plugins`. The host's own plugins
(:data:`BUILT_IN_PLUGINS`: the bulk and individual mappers) are always registered.
Everything else, the source, destination and notifier plugins shipped beside the host
included, comes from the entry-point group ``ledgersync``: ``LEDGERSYNC_LOAD_PLUGINS``
(comma-separated entry-point names) is an allow-list of them, ``LEDGERSYNC_DISABLE_PLUGINS``
a block-list; neither can switch a built-in off. A plugin that fails to import gives a warning
naming it; the host keeps working.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import click
import pluggy

from core import hookspecs
from core.contracts import ConnectionInfo, Destination, Mapper, Notifier, RunInfo, RunSummary
from core.contracts import Source as SourceProtocol
from core.errors import ConfigurationError
from core.pages import PluginPages

__all__ = [
    "BUILT_IN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "Manifest",
    "PluginWarning",
    "Plugins",
    "get_plugins",
]

ENTRY_POINT_GROUP = "ledgersync"
# The host's own plugins, by name and module: registered before any entry point, whatever the
# allow- and block-lists say (an entry point of the same name is ignored).
BUILT_IN_PLUGINS: tuple[tuple[str, str], ...] = (("mapping", "core.mapping"),)
log = logging.getLogger(__name__)
T = TypeVar("T")


class PluginWarning(UserWarning):
    """A plugin could not be loaded; the host goes on without it."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a plugin folder declares about itself (Odoo's ``__manifest__`` in spirit)."""

    name: str
    version: str
    summary: str
    provides: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()


@dataclass
class _Catalog:
    sources: dict[str, type[SourceProtocol]] = field(default_factory=dict)
    destinations: dict[str, type[Destination]] = field(default_factory=dict)
    mappers: dict[str, type[Mapper]] = field(default_factory=dict)
    notifiers: dict[str, type[Notifier]] = field(default_factory=dict)
    standins: dict[str, type[Any]] = field(default_factory=dict)
    pages: dict[str, type[PluginPages]] = field(default_factory=dict)


def _env_names(variable: str) -> set[str] | None:
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


class Plugins:
    """Typed front of the pluggy manager: one method per hook, so nothing else touches pluggy."""

    def __init__(self, *, load_entry_points: bool = True) -> None:
        self.manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.failures: dict[str, str] = {}
        for name, module in BUILT_IN_PLUGINS:
            self.manager.register(importlib.import_module(module), name=name)
        if load_entry_points:
            self._load_entry_points()
        self.manager.check_pending()
        self._catalog: _Catalog | None = None

    def _load_entry_points(self) -> None:
        allowed = _env_names("LEDGERSYNC_LOAD_PLUGINS")
        blocked = _env_names("LEDGERSYNC_DISABLE_PLUGINS") or set()
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            name = entry_point.name
            if (allowed is not None and name not in allowed) or name in blocked:
                continue
            if self.manager.get_plugin(name) is not None:
                continue
            try:
                plugin = entry_point.load()
                self.manager.register(plugin, name=name)
            except Exception as error:  # a broken third-party plugin must not stop the host
                self.failures[name] = f"{type(error).__name__}: {error}"
                target = entry_point.value
                message = f"ledgersync plugin {name!r} ({target}) failed to load: {error}"
                warnings.warn(message, PluginWarning, stacklevel=2)
                log.warning(message)

    # -- registration of in-process plugins (tests, embedding applications) --------------

    def register(self, plugin: object, name: str | None = None) -> None:
        self.manager.register(plugin, name=name)
        self.manager.check_pending()
        self._catalog = None

    def unregister(self, name: str) -> None:
        self.manager.unregister(name=name)
        self._catalog = None

    # -- catalog -------------------------------------------------------------------------

    def _collect(self, hook: Any, kind: str) -> dict[str, Any]:
        """Call each plugin's register hook on its own, so one broken plugin spoils nothing."""
        found: dict[str, Any] = {}

        def register(cls: Any) -> None:
            name = getattr(cls, "name", None)
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"{kind} {cls!r} has no name")
            found[name] = cls

        for implementation in hook.get_hookimpls():
            try:
                implementation.function(**{arg: register for arg in implementation.argnames})
            except Exception as error:
                plugin = implementation.plugin_name
                self.failures[plugin] = f"{type(error).__name__}: {error}"
                message = f"ledgersync plugin {plugin!r} failed to register its {kind}s: {error}"
                warnings.warn(message, PluginWarning, stacklevel=2)
                log.warning(message)
        return found

    @property
    def catalog(self) -> _Catalog:
        if self._catalog is None:
            hook = self.manager.hook
            self._catalog = _Catalog(
                sources=self._collect(hook.register_sources, "source"),
                destinations=self._collect(hook.register_destinations, "destination"),
                mappers=self._collect(hook.register_mappers, "mapper"),
                notifiers=self._collect(hook.register_notifiers, "notifier"),
                standins=self._collect(hook.register_standins, "stand-in"),
                pages=self._collect(hook.register_routes, "page"),
            )
        return self._catalog

    def source(self, name: str) -> type[SourceProtocol]:
        return _lookup(self.catalog.sources, name, "source")

    def destination(self, name: str) -> type[Destination]:
        return _lookup(self.catalog.destinations, name, "destination")

    def mapper(self, name: str) -> type[Mapper]:
        return _lookup(self.catalog.mappers, name, "mapper")

    def notifiers(self) -> list[type[Notifier]]:
        return list(self.catalog.notifiers.values())

    def pages(self) -> dict[str, type[PluginPages]]:
        """Each plugin's web pieces (``register_routes``), by source or destination name."""
        return dict(self.catalog.pages)

    # -- forwarding methods, one per hook --------------------------------------------------

    def add_commands(self, cli: click.Group) -> None:
        self.manager.hook.register_commands(cli=cli)

    def sync_started(self, run: RunInfo) -> None:
        self.manager.hook.sync_started(run=run)

    def sync_finished(self, run: RunInfo, summary: RunSummary) -> None:
        self.manager.hook.sync_finished(run=run, summary=summary)

    def connection_failed(self, connection: ConnectionInfo, error: str) -> None:
        self.manager.hook.connection_failed(connection=connection, error=error)

    def connection_restored(self, connection: ConnectionInfo) -> None:
        self.manager.hook.connection_restored(connection=connection)

    # -- introspection for `ledgersync plugins` ------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for name, plugin in sorted(self.manager.list_name_plugin(), key=lambda pair: pair[0]):
            hooks = sorted(hook.name for hook in self.manager.get_hookcallers(plugin) or [])
            manifest = _manifest_of(plugin)
            rows.append(
                {
                    "name": name,
                    "version": manifest.version if manifest else "",
                    "summary": manifest.summary if manifest else "",
                    "provides": list(manifest.provides) if manifest else [],
                    "depends": list(manifest.depends) if manifest else [],
                    "hooks": hooks,
                }
            )
            if name in self.failures:
                rows[-1]["error"] = self.failures[name]
        listed = {row["name"] for row in rows}
        for name, error in sorted(self.failures.items()):
            if name not in listed:
                rows.append({"name": name, "error": error, "hooks": []})
        return rows


def _manifest_of(plugin: object) -> Manifest | None:
    manifest = getattr(plugin, "MANIFEST", None)
    if isinstance(manifest, Manifest):
        return manifest
    if isinstance(plugin, ModuleType):
        version = getattr(plugin, "__version__", "")
        return Manifest(name=plugin.__name__, version=str(version), summary=plugin.__doc__ or "")
    return None


def _lookup(found: dict[str, T], name: str, kind: str) -> T:
    try:
        return found[name]
    except KeyError:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigurationError(
            f"no {kind} plugin named {name!r} is installed (installed: {known}).",
            "Install the plugin or check LEDGERSYNC_LOAD_PLUGINS / LEDGERSYNC_DISABLE_PLUGINS.",
        ) from None


_lock = threading.Lock()
_plugins: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, built on first use."""
    global _plugins
    with _lock:
        if _plugins is None:
            _plugins = Plugins()
        return _plugins


def reset_plugins() -> None:
    """Forget the loaded plugins (tests, or after changing the environment variables)."""
    global _plugins
    with _lock:
        _plugins = None
