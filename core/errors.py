"""Typed errors: each says what went wrong and what to do, and whether retrying can help.

After the OCA connector: retryable (network, lock, throttling) versus terminal (invalid data,
revoked authorization). Messages are for people; they never carry a secret.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AuthorizationFailed",
    "BadRecord",
    "ConfigurationError",
    "DailyLimitReached",
    "DeletionRefused",
    "DeliveryUncertain",
    "DocumentRejected",
    "EventSyncDeferred",
    "LedgersyncError",
    "SecretKeyError",
    "StoreMissing",
    "SyncRefused",
    "TransientError",
]


class LedgersyncError(Exception):
    """Base error. ``str(error)`` is one sentence for a person; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class ConfigurationError(LedgersyncError):
    """Something the operator must fix: unknown connection, missing or wrong settings."""


class SecretKeyError(ConfigurationError):
    """The secret key cannot decrypt what is stored (wrong key, or the key file was replaced)."""


class StoreMissing(ConfigurationError):
    """A command that reads or runs found no store where it looked (it never creates one)."""

    HINT = (
        "Check --db (or LEDGERSYNC_DB) and that this is the user that owns the store; a new "
        "store is made by connecting an account (`ledgersync <source> connect NAME`) or by "
        "`ledgersync db upgrade`."
    )

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint or self.HINT)


class BadRecord(LedgersyncError):
    """A source payload that cannot become a record; it is quarantined with this reason."""


class TransientError(LedgersyncError):
    """Network trouble, timeouts, 5xx, short throttling: a later attempt may succeed.

    ``sent`` is True when the request may have reached the remote side (so a create may
    have happened and must be looked up by key before it is sent again).
    """

    def __init__(self, message: str, hint: str = "", *, sent: bool = False) -> None:
        super().__init__(message, hint)
        self.sent = sent


class DeliveryUncertain(TransientError):
    """A create was sent and its outcome is unknown (timeout, dropped response, 5xx)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint, sent=True)


class DocumentRejected(LedgersyncError):
    """The destination refused this one document for a reason retrying will not fix."""


class DeletionRefused(LedgersyncError):
    """The destination will not delete this document (a person paid, matched, locked or
    otherwise changed it): it stays, with the destination's reason; retrying will not help."""


class AuthorizationFailed(LedgersyncError):
    """The credentials were refused or revoked: the connection has failed until reconnected."""

    def __init__(self, message: str, hint: str = "", *, side: str = "") -> None:
        super().__init__(message, hint)
        self.side = side


class DailyLimitReached(LedgersyncError):
    """The destination's daily API allowance is spent: the run pauses and resumes later."""

    def __init__(self, message: str, hint: str = "", *, resume_after: datetime | None = None):
        super().__init__(message, hint)
        self.resume_after = resume_after


class EventSyncDeferred(LedgersyncError):
    """An event sync stopped so as to leave the daily sync the calls it needs (not a pause)."""


class SyncRefused(LedgersyncError):
    """A sync may not start now (disabled, too soon after the last manual sync, running)."""
