"""The log notifier: every notice goes to the ``ledgersync.notices`` logger. On by default."""

from __future__ import annotations

import logging
from typing import ClassVar

from core.api import Manifest, Notice, RegisterNotifier, hookimpl, safe

MANIFEST = Manifest(
    name="log",
    version="0.1.0",
    summary="Writes every notice (failures, restorations, limits) to the log.",
    provides=("notifier:log",),
)

log = logging.getLogger("ledgersync.notices")


class LogNotifier:
    name: ClassVar[str] = "log"

    def send(self, notice: Notice) -> None:
        level = logging.INFO if notice.kind == "connection_restored" else logging.WARNING
        # Names and messages may carry terminal escapes or line breaks: written inert.
        log.log(
            level,
            "[%s] %s: %s %s",
            *(
                _inert(text)
                for text in (notice.connection.name, notice.subject, notice.message, notice.hint)
            ),
        )


def _inert(text: str) -> str:
    return safe(text).replace("\n", "\\n")


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(LogNotifier)
