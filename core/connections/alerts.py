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

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import Notice, NoticeKind, Notifier
from core.plugins import Plugins
from core.store.database import Database
from core.store.models import Alert, Connection
from core.store.repository import connection_info

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


def open_alert(
    session: Session, connection_id: int, kind: str, message: str, now: datetime
) -> Alert | None:
    """Open an episode of ``kind`` for the connection; the new Alert, or None if one is open.

    An episode already open keeps its opening time; its message is brought up to date.
    """
    current = session.scalars(
        select(Alert)
        .where(
            Alert.connection_id == connection_id,
            Alert.kind == str(kind),
            Alert.resolved_at.is_(None),
        )
        .order_by(Alert.id)
    ).first()
    if current is not None:
        if current.message != message:
            current.message = message
        return None
    alert = Alert(connection_id=connection_id, kind=str(kind), message=message, opened_at=now)
    session.add(alert)
    session.flush()
    return alert


def resolve_alerts(
    session: Session, connection_id: int, kind: str | None, now: datetime
) -> list[Alert]:
    """Close the open episodes of ``kind`` (None: of every kind); returns those closed."""
    query = select(Alert).where(Alert.connection_id == connection_id, Alert.resolved_at.is_(None))
    if kind is not None:
        query = query.where(Alert.kind == str(kind))
    resolved = list(session.scalars(query.order_by(Alert.id)))
    for alert in resolved:
        alert.resolved_at = now
    return resolved


def open_alerts(session: Session, connection_id: int) -> list[Alert]:
    """The connection's open episodes, oldest first (for status)."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.connection_id == connection_id, Alert.resolved_at.is_(None))
            .order_by(Alert.id)
        )
    )


def mark_notified(alert: Alert, now: datetime) -> None:
    """Record that the episode's notice went out (call inside a session holding ``alert``)."""
    alert.notified_at = now


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
        with database.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is not None:
                mark_notified(alert, now)
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
    query = select(Alert, Connection).join(Connection, Connection.id == Alert.connection_id)
    query = query.where(Alert.resolved_at.is_(None), Alert.notified_at.is_(None))
    if connection_id is not None:
        query = query.where(Alert.connection_id == connection_id)
    with database.session() as session:
        unsent = [
            (alert.id, alert.kind, alert.message, connection_info(row))
            for alert, row in session.execute(query.order_by(Alert.id))
        ]
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
