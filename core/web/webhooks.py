"""``POST /webhooks/<source>/<connection>``: events a source pushes, taken in and answered at once.

No session and no CSRF token here (the sender is the vendor): the source plugin verifies the
signature over the raw bytes. The host refuses what it must with the right status, stores each
accepted event once and answers 2xx before any sync work; the event sync runs later, apart.
Refusals are logged with their reason, never with the body or a signature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from core import clock
from core.contracts import ConnectionInfo
from core.events import EventRefused
from core.host import Host
from core.pages import EventReceiver
from core.states import ConnectionStatus
from core.store.connection_records import connection_named
from core.store.repository import connection_info
from core.sync.events import store_event

__all__ = ["MAX_EVENT_BYTES", "webhooks"]

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 256 * 1024  # a charge is a few kilobytes; nothing a source sends is larger

webhooks = Blueprint("webhooks", __name__)

EventListener = Callable[[str], None]  # told the connection's name when an event is stored


def _answer(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def _refuse(source: str, connection: str, refusal: EventRefused) -> Response:
    log.warning(
        "webhook refused (%d) for %s/%s from %s: %s",
        refusal.status,
        source,
        connection[:100],
        request.remote_addr,
        refusal.reason,
    )
    return _answer(refusal.status, refusal.reason)


def _body() -> bytes:
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        raise EventRefused(413, f"the body is over {MAX_EVENT_BYTES} bytes")
    body = request.stream.read(MAX_EVENT_BYTES + 1)
    if len(body) > MAX_EVENT_BYTES:
        raise EventRefused(413, f"the body is over {MAX_EVENT_BYTES} bytes")
    return body


def _receiver(source: str) -> EventReceiver:
    pieces: dict[str, Any] = current_app.extensions["ledgersync.pages"]
    piece = pieces.get(source)
    if not isinstance(piece, EventReceiver):
        raise EventRefused(404, f"no installed source takes webhooks as {source[:50]!r}")
    return piece


def _connection(host: Host, source: str, name: str) -> ConnectionInfo:
    with host.database.session() as session:
        row = connection_named(session, name)
        if row is None or row.source != source:
            raise EventRefused(404, "no such connection takes these webhooks")
        return connection_info(row)


@webhooks.route("/webhooks/<source>/<connection>", methods=["POST"])
def receive(source: str, connection: str) -> Response:
    host: Host = current_app.extensions["ledgersync.host"]
    now = clock.now()
    try:
        body = _body()
        receiver = _receiver(source)
        info = _connection(host, source, connection)
        if info.status == ConnectionStatus.DISCONNECTED:
            raise EventRefused(410, "the connection is disconnected")
        if not receiver.webhook_secret_stored(info):
            raise EventRefused(404, "webhooks are not set up for this connection")
        headers = cast(Mapping[str, str], request.headers)  # names case-insensitive
        event = receiver.receive_event(info, headers, body, now)
    except EventRefused as refusal:
        return _refuse(source, connection, refusal)
    new = store_event(host.database, info.id, event, now)
    log.info(
        "webhook %s %s for %s: %s",
        event.name,
        event.object_id,
        info.name,
        "stored" if new else "seen",
    )
    if new:
        listener: EventListener | None = current_app.extensions.get("ledgersync.events")
        if listener is not None:
            listener(info.name)
    return _answer(202 if new else 200, "accepted" if new else "already received")
