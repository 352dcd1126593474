"""A failure episode of a connection: marked failed and paused with one notice, then restored
with one notice when it is reconnected; sync resumes where it stopped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.connections import alerts
from core.contracts import ConnectionInfo, Notice, NoticeKind
from core.host import Host
from core.store.connection_failures import note_connection_failed, note_connection_restored
from core.store.repository import connection_info, utcnow

__all__ = ["RESUME", "connection_notice", "mark_failed", "reconnect_hint", "restore"]


def connection_notice(
    connection: ConnectionInfo,
    kind: NoticeKind,
    subject: str,
    message: str,
    hint: str,
    now: datetime,
    **details: Any,
) -> Notice:
    return Notice(
        kind=kind,
        connection=connection,
        subject=subject,
        message=message,
        hint=hint,
        occurred_at=now,
        details=details,
    )


def mark_failed(
    host: Host, connection: ConnectionInfo, error: str, now: datetime, *, hint: str = ""
) -> None:
    """Mark the connection failed, pause it, and notify once per failure episode.

    ``error`` says what happened; ``hint`` (from the plugin) how to reconnect.
    """
    reason = f"{error} {hint}".strip()
    with host.database.session() as session:
        row = note_connection_failed(session, connection.id, reason, now)
        opened = alerts.open_alert(session, connection.id, "connection_failed", reason, now)
        info = connection_info(row)
    if opened is None:
        return
    host.plugins.connection_failed(info, reason)
    alerts.send_episode(
        host.database,
        host.plugins,
        opened.id,
        connection_notice(
            info,
            NoticeKind.CONNECTION_FAILED,
            f"ledgersync: connection {info.name} failed; sync is paused",
            error,
            f"{hint or reconnect_hint(info)} {RESUME}",
            now,
        ),
        now,
    )


RESUME = (
    "Once reconnected, sync resumes from where it stopped; nothing from the failure is skipped."
)


def reconnect_hint(connection: ConnectionInfo) -> str:
    """How to reconnect, when the plugin did not say: its own connect command."""
    return (
        f"Reconnect {connection.name} with the connect command of the side that failed "
        f"(`ledgersync --help` lists them; `ledgersync status {connection.name}` says which)."
    )


def restore(host: Host, name: str, now: datetime | None = None) -> None:
    """After a reconnect: the connection works again, its failure episode closes, and the
    operator hears so once. Sync resumes where it stopped (sync periods were never ended)."""
    now = now or utcnow()
    with host.database.session() as session:
        connection, reason = note_connection_restored(session, name)
        resolved = alerts.resolve_alerts(session, connection.id, "connection_failed", now)
        info = connection_info(connection)
    host.plugins.connection_restored(info)
    if resolved:
        alerts.notify(
            host.plugins,
            Notice(
                kind=NoticeKind.CONNECTION_RESTORED,
                connection=info,
                subject=f"ledgersync: connection {info.name} restored",
                message=f"The connection works again after: {reason}",
                hint="Sync resumes from where it stopped; nothing from the failure period "
                "is skipped.",
                occurred_at=now,
            ),
        )
