"""Reconcile after every scheduled sync, and tell a person what only a person can settle.

A scheduled sync (``run-due``, ``scheduler``, a Celery worker) that succeeded reconciles its
connection. The differences that need a person (``Reconciliation.alarms``: a payout held for
a missing setting, a clearing balance changed in the destination) are an alert episode of
kind ``books_differ``: each difference not reported yet sends one notice, however many syncs
still find it; when none is left the episode closes with one "ties out again" notice
(``books_tie``). Differences that the next sync settles by itself (a day still open, documents
not delivered yet, money the gateway has not paid out) never notify. A reconcile that cannot
run (the destination unreachable) is logged and never fails the sync.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from core.connections import alerts
from core.connections.failure import connection_notice
from core.contracts import ConnectionInfo, Notice, NoticeKind
from core.errors import LedgersyncError
from core.host import Host
from core.states import SyncTrigger
from core.store.repository import connection_info, get_connection
from core.sync.reconcile import Reconciliation, reconcile

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["SCHEDULED", "reconcile_after_sync"]

log = logging.getLogger(__name__)
SCHEDULED = (SyncTrigger.SCHEDULED, SyncTrigger.WORKER)  # their syncs reconcile afterwards


def reconcile_after_sync(host: Host, name: str, now: datetime) -> Reconciliation | None:
    """Reconcile ``name`` and notify what changed in its alarms; None when it could not run."""
    try:
        result = reconcile(host, name, now=now)
    except LedgersyncError as error:
        log.warning("reconcile after the sync of %s did not run: %s", name, error)
        return None
    with host.database.session() as session:
        row = get_connection(session, name)
        info = connection_info(row)
        notice, episode = _notice(session, row.id, info, result.alarms, now)
    if notice is not None:
        if episode is not None:
            alerts.send_episode(host.database, host.plugins, episode, notice, now)
        else:
            alerts.notify(host.plugins, notice)
    return result


def _notice(
    session: Session, connection_id: int, info: ConnectionInfo, alarms: list[str], now: datetime
) -> tuple[Notice | None, int | None]:
    """The notice to send (and the new episode's id), updating the episode in ``session``."""
    kind = NoticeKind.BOOKS_DIFFER
    name = info.name
    current = next((a for a in alerts.open_alerts(session, connection_id) if a.kind == kind), None)
    if not alarms:
        if current is None:
            return None, None
        alerts.resolve_alerts(session, connection_id, kind, now)
        tie = connection_notice(
            info,
            NoticeKind.BOOKS_TIE,
            f"ledgersync: the books of {name} tie out again",
            "What the reconcile after the scheduled sync reported is settled:\n"
            + (current.message or ""),
            "Nothing to do.",
            now,
        )
        return tie, None
    episode: int | None = None
    if current is None:
        opened = alerts.open_alert(session, connection_id, kind, "\n".join(alarms), now)
        episode = opened.id if opened is not None else None
        new = alarms
    else:  # the episode's message holds every difference it has reported, one a line
        reported = (current.message or "").splitlines()
        new = [line for line in alarms if line not in reported]
        current.message = "\n".join(dict.fromkeys([*reported, *alarms]))
    if not new:
        return None, None
    differ = connection_notice(
        info,
        kind,
        f"ledgersync: the books of {name} do not tie out",
        "\n".join(new),
        f"`ledgersync reconcile {name}` shows the three views; `ledgersync verify {name}` "
        "names the documents changed in the books.",
        now,
        differences=new,
    )
    return differ, episode
