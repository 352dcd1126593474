"""What commands (built-in and plugins') use to reach the host of the running invocation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from core.host import Host

__all__ = ["HostHolder", "current_host", "pass_host"]

F = TypeVar("F", bound=Callable[..., Any])


class HostHolder:
    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url
        self.host: Host | None = None

    def get(self) -> Host:
        if self.host is None:
            self.host = Host(self.db_url)
        return self.host


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
