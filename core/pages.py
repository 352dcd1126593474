"""What a plugin adds to the web page (``ledgersync serve``), through ``register_routes``.

A plugin registers a class implementing :class:`PluginPages`. The host builds it with the
:class:`~core.host.Host` and mounts its routes (a ``flask.Blueprint``) under
``/plugins/<name>/``; every route there needs the operator's session and every form its CSRF
token, exactly as the host's own pages. The integration page embeds the plugin's connect form
and, for a destination, fills the Settings pickers from :meth:`PluginPages.setting_choices`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from core.contracts import ConnectionInfo
from core.events import SourceEvent

__all__ = ["Choice", "EventReceiver", "PluginPages", "RegisterPages", "SettingChoices"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a picker: a remote id, its name, and its actual type (shown beside it)."""

    id: str
    label: str
    kind: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class SettingChoices:
    """The options for one account setting (``sales_account``, ..., ``item``).

    ``needs`` is the type the destination requires (shown to people: "Income"); ``choices``
    lists the accounts of that type first, then the others, each with its actual type, so a
    wrong pick is possible and the destination's validation names it, as on the CLI."""

    setting: str
    label: str
    needs: str
    choices: tuple[Choice, ...]


class PluginPages(Protocol):
    """A plugin's pieces of the web page. ``name`` is its source or destination name."""

    name: ClassVar[str]
    side: ClassVar[str]  # "source" or "destination"
    title: ClassVar[str]  # the vendor's name as people know it, e.g. the gateway's

    def __init__(self, host: Any) -> None: ...

    def blueprint(self) -> Any:
        """A ``flask.Blueprint`` with the plugin's routes (connect, OAuth callback, ...)."""
        ...

    def connect_form(self, connection: ConnectionInfo | None) -> str:
        """HTML of the Connect card on the integration page (None: a new connection).

        Render it with ``flask.render_template`` (escaped); include ``csrf_token()``."""
        ...

    def setting_choices(self, connection: str) -> Sequence[SettingChoices]:
        """A destination's account and item pickers for connection ``connection``."""
        ...


@runtime_checkable
class EventReceiver(Protocol):
    """A source's pages that also take its webhooks, at ``POST /webhooks/<name>/<connection>``.

    That route needs no session and no CSRF token (the sender is the vendor, not a browser):
    the signature is the check. The host limits the size, finds the connection, stores the
    event once and answers; the plugin only verifies and reads."""

    def receive_event(
        self, connection: ConnectionInfo, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> SourceEvent:
        """The verified event in ``body`` (raw bytes), or raise ``core.events.EventRefused``."""
        ...

    def webhook_secret_stored(self, connection: ConnectionInfo) -> bool:
        """Whether the connection has what it takes to verify events (e.g. a stored salt)."""
        ...


RegisterPages = Callable[[type[PluginPages]], None]
