"""Documents the destination refused: one alert per document and reason, and the retry after
a fix.

A document the destination rejects (a verified write that came back different, a refusal such
as a tax or account problem) is ``failed`` and is never sent again by itself: the books wait
for the operator. So the operator hears of it once: an alert episode per document (kind
``document_rejected``, its message the one-line reason) is opened the first time, and a later
run that rejects it for the same reason says nothing; a different reason opens a new episode
(and alerts again). The episode is resolved once the document is delivered.

After the fix (e.g. ``ledgersync settings NAME --tax TAX_ID``), :func:`retry_rejected` puts the
failed documents back in the outbox (``planned``), each exactly once: their attempt count is
kept, so delivery asks the destination for each by key before it sends anything (the recovery
look-up), and an earlier attempt whose answer was lost is bound, never created twice. Accounts,
item and tax are read from the settings at delivery, so a retried document goes out under the
current settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.connections import alerts
from core.connections.failure import connection_notice
from core.contracts import ConnectionInfo, NoticeKind
from core.host import Host
from core.store.rejections import (
    failed_documents,
    mark_rejections_told,
    record_rejections,
    rejection_key,
    replan_failed,
)
from core.store.repository import get_connection

__all__ = [
    "REJECTED",
    "RejectedDocument",
    "alert_rejections",
    "rejected_documents",
    "retry_rejected",
]

REJECTED = "document_rejected"  # the alert kind
_SHOWN = 5  # rejections spelled out in one notice; the rest are counted


@dataclass(frozen=True, slots=True)
class RejectedDocument:
    """A failed document: its key, kind, date, amount and the destination's reason."""

    key: str
    kind: str
    date: str
    currency: str
    amount: str
    reason: str
    attempts: int


def _message(key: str, reason: str) -> str:
    """The episode's message: the reason, naming the document first."""
    return reason if reason.startswith(f"{key}:") else f"{key}: {reason}"


def alert_rejections(
    host: Host, connection: ConnectionInfo, failed: Sequence[tuple[str, str]], now: datetime
) -> int:
    """Tell the operator, in one notice, of the rejections not told before; how many.

    ``failed`` holds ``(key, reason)`` of the documents this run rejected. Episodes of
    documents delivered since are resolved. The notice counts as sent only if every notifier
    took it (else ``retry_unsent`` sends each episode again later)."""
    episodes = [(key, _message(key, reason)) for key, reason in failed]
    with host.database.session() as session:
        told = record_rejections(session, connection.id, REJECTED, episodes, now)
    if not told:
        return 0
    name = connection.name
    lines = [message for _id, message in told[:_SHOWN]]
    if len(told) > _SHOWN:
        lines.append(f"... and {len(told) - _SHOWN} more (`ledgersync retry {name}` lists them).")
    notice = connection_notice(
        connection,
        NoticeKind.DOCUMENTS_REJECTED,
        f"ledgersync: {len(told)} document(s) of {name} rejected by the destination",
        "\n".join(lines),
        f"Fix the cause each line names, then `ledgersync retry {name} --all-failed` sends "
        "them again (each is looked up first, never created twice); documents that depend on "
        "them wait until then.",
        now,
        keys=[rejection_key(message) for _id, message in told],
    )
    failures = alerts.notify(host.plugins, notice)
    if not failures:
        with host.database.session() as session:
            mark_rejections_told(session, [alert_id for alert_id, _message_text in told], now)
    return len(told)


def rejected_documents(
    host: Host, name: str, keys: Sequence[str] | None = None
) -> list[RejectedDocument]:
    """The failed documents of ``name`` (only ``keys`` when given), oldest first."""
    with host.database.session() as session:
        connection_id = get_connection(session, name).id
        return [
            RejectedDocument(
                key=row.key,
                kind=row.kind,
                date=row.doc_date.isoformat(),
                currency=row.currency,
                amount=str(row.amount),
                reason=row.last_error or "",
                attempts=row.attempts or 0,
            )
            for row in failed_documents(session, connection_id, keys)
        ]


def retry_rejected(host: Host, name: str, keys: Sequence[str] | None = None) -> list[str]:
    """Put the failed documents (only ``keys`` when given) back in the outbox; their keys.

    Each goes back exactly once: only a ``failed`` row changes, in one transaction, and its
    attempt count stays, so delivery looks it up by key before sending (module notes). The
    last reason stays on the row until the document is delivered."""
    with host.database.session() as session:
        connection_id = get_connection(session, name).id
        return replan_failed(session, connection_id, keys)
