"""Alert episodes and sending notices.

An alert is an episode: opened when a cause appears (authorization failed, sync failed
repeatedly, daily limit reached, records quarantined), resolved when it is gone. Only the
opening of an episode notifies, so a failure that lasts a week sends one e-mail, not one per
run; resolving returns the episode so the caller can send "restored".

Typical use (the caller owns the transaction)::

    with database.session() as session:
        opened = open_alert(session, connection.id, NoticeKind.CONNECTION_FAILED, error, now)
    if opened is not None:
        notify(plugins, Notice(...))

Sending never breaks a sync: :func:`notify` builds every notifier, catches what fails,
logs it and returns the failures for the run record. An episode's notice that no notifier
could send (a bad SMTP URL, the mail server away) stays unsent (``notified_at`` empty) and
:func:`retry_unsent` sends it again on the next run until it goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.contracts import Notice, NoticeKind, Notifier
from core.plugins import Plugins
from core.store.alert_episodes import (
    mark_notified,
    note_episode_notified,
    open_alert,
    open_alerts,
    resolve_alerts,
    unsent_episodes,
)
from core.store.database import Database

__all__ = [
    "NotifierFailure",
    "mark_notified",
    "notify",
    "open_alert",
    "open_alerts",
    "resolve_alerts",
    "retry_unsent",
    "send_episode",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NotifierFailure:
    """A notifier that could not send a notice, and why (no secrets: the error's text)."""

    notifier: str
    error: str


def notify(plugins: Plugins, notice: Notice) -> list[NotifierFailure]:
    """Send ``notice`` through every registered notifier; never raises.

    A notifier that cannot be built or cannot send is logged and reported in the returned
    list; the others still get the notice.
    """
    failures: list[NotifierFailure] = []
    for cls in _notifier_classes(plugins, failures):
        name = str(getattr(cls, "name", cls.__name__))
        try:
            notifier: Notifier = cls()
            notifier.send(notice)
        except Exception as error:  # mail being down must never crash a sync
            text = f"{type(error).__name__}: {error}"
            log.warning(
                "notifier %s could not send %s for %s: %s",
                name,
                notice.kind,
                notice.connection.name,
                text,
            )
            failures.append(NotifierFailure(name, text))
    return failures


def _notifier_classes(
    plugins: Plugins, failures: list[NotifierFailure]
) -> Sequence[type[Notifier]]:
    try:
        return plugins.notifiers()
    except Exception as error:  # a broken plugin's registration hook
        text = f"{type(error).__name__}: {error}"
        log.warning("notifiers could not be listed: %s", text)
        failures.append(NotifierFailure("*", text))
        return ()


def send_episode(
    database: Database, plugins: Plugins, alert_id: int, notice: Notice, now: datetime
) -> list[NotifierFailure]:
    """Send an episode's notice; it counts as sent (``notified_at``) only if no notifier
    failed, so :func:`retry_unsent` sends it again otherwise."""
    failures = notify(plugins, notice)
    if not failures:
        note_episode_notified(database, alert_id, now)
    return failures


# Episode kinds that are not themselves notice kinds (one episode per rejected document).
_NOTICE_OF = {"document_rejected": NoticeKind.DOCUMENTS_REJECTED}

# What a retried notice says: the subject by kind (the message is the episode's own).
_RETRY_SUBJECTS = {
    NoticeKind.CONNECTION_FAILED: "ledgersync: connection {name} failed; sync is paused",
    NoticeKind.SYNC_FAILED: "ledgersync: sync of {name} failed repeatedly",
    NoticeKind.DAILY_LIMIT_REACHED: "ledgersync: daily API limit reached for {name}",
    NoticeKind.DOCUMENTS_REJECTED: "ledgersync: a document of {name} was rejected",
}


def retry_unsent(
    database: Database, plugins: Plugins, now: datetime, connection_id: int | None = None
) -> int:
    """Send again every open episode whose notice never went out; how many went out now."""
    unsent = unsent_episodes(database, connection_id)
    sent = 0
    for alert_id, kind, message, connection in unsent:
        notice_kind = _NOTICE_OF.get(kind) or (
            NoticeKind(kind) if kind in set(NoticeKind) else NoticeKind.SYNC_FAILED
        )
        subject = _RETRY_SUBJECTS.get(notice_kind, "ledgersync: {name}").format(
            name=connection.name
        )
        notice = Notice(
            kind=notice_kind,
            connection=connection,
            subject=subject,
            message=message,
            hint=(
                f"Fix the cause, then `ledgersync retry {connection.name} --all-failed`."
                if notice_kind is NoticeKind.DOCUMENTS_REJECTED
                else f"See `ledgersync status {connection.name}`."
            ),
            occurred_at=now,
            details={"retried": True},
        )
        sent += int(not send_episode(database, plugins, alert_id, notice, now))
    return sent
