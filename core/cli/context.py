"""What commands (built-in and plugins') use to reach the host of the running invocation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from core.errors import ConfigurationError
from core.host import Host
from core.store.addresses import shown_address
from core.store.problems import StoreError

__all__ = ["HostHolder", "current_host", "pass_host"]

F = TypeVar("F", bound=Callable[..., Any])


class HostHolder:
    """The invocation's Host, built on first use. ``create=False`` for commands that read or
    run: they never create a store or a secret key, they name where they looked."""

    def __init__(self, db_url: str | None, *, create: bool = True) -> None:
        self.db_url = db_url
        self.create = create
        self.host: Host | None = None

    def get(self) -> Host:
        if self.host is None:
            try:
                self.host = Host(self.db_url, create=self.create)
            except StoreError as error:  # a wrong --db is the user's to fix: no traceback
                raise _store_error(self.db_url, error) from None
        return self.host


def _store_error(db_url: str | None, error: StoreError) -> ConfigurationError:
    try:
        where = f" at {shown_address(db_url)}" if db_url else ""
    except StoreError:
        where = ""
    detail = str(getattr(error, "orig", None) or error).splitlines()[0].rstrip(".")
    return ConfigurationError(
        f"cannot open the store{where}: {detail}.",
        "Check --db (or LEDGERSYNC_DB), e.g. sqlite:////path/to/ledgersync.sqlite or "
        "postgresql+psycopg://user@host/ledgersync.",
    )


def current_host() -> Host:
    """The Host of the running ``ledgersync`` invocation (built on first use)."""
    holder = click.get_current_context().find_object(HostHolder)
    if holder is None:
        raise click.UsageError("no ledgersync host in this context")
    return holder.get()


def pass_host(function: F) -> F:
    """Decorator for commands (built-in or plugin) that need the Host as first argument."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(current_host(), *args, **kwargs)

    return wrapper  # type: ignore[return-value]
