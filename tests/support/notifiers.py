"""Notifier plugins for tests: one that keeps what it is sent, one whose mail server is down."""

from __future__ import annotations

from typing import ClassVar

from core import Manifest, hookimpl
from core.contracts import Notice
from core.hookspecs import Register

MANIFEST = Manifest(
    name="inbox",
    version="0.1.0",
    summary="Keeps every notice in memory (tests).",
    provides=("notifier:inbox",),
)


class InboxNotifier:
    """Keeps every notice it is sent, in order, in the class-level ``received`` list."""

    name: ClassVar[str] = "inbox"
    received: ClassVar[list[Notice]] = []

    def send(self, notice: Notice) -> None:
        InboxNotifier.received.append(notice)


class BrokenMailNotifier:
    """Fails like a notifier whose server refuses the connection."""

    name: ClassVar[str] = "broken_mail"

    def send(self, notice: Notice) -> None:
        raise ConnectionRefusedError(111, "Connection refused")


class UnbuildableNotifier:
    """Fails like a notifier whose configuration is wrong."""

    name: ClassVar[str] = "unbuildable"

    def __init__(self) -> None:
        raise ValueError("LEDGERSYNC_EXAMPLE_URL is not a URL")

    def send(self, notice: Notice) -> None:  # pragma: no cover - never built
        raise AssertionError("unreachable")


class InboxPlugin:
    """Registers the inbox notifier only."""

    @hookimpl
    def register_notifiers(self, register: Register) -> None:
        register(InboxNotifier)


class FaultyNotifiersPlugin:
    """Registers the two failing notifiers."""

    @hookimpl
    def register_notifiers(self, register: Register) -> None:
        register(BrokenMailNotifier)
        register(UnbuildableNotifier)
