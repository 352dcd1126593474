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
logs it and returns the failures for the run record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import Notice, Notifier
from core.plugins import Plugins
from core.store.models import Alert

__all__ = [
    "NotifierFailure",
    "mark_notified",
    "notify",
    "open_alert",
    "open_alerts",
    "resolve_alerts",
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
