"""The handlers every kind of document shares: list, get, create and upsert.

A :class:`DocumentKind` says where a kind's records are, how one is made and shown, and which
filters its list takes; :func:`document_routes` turns it into its rows of the route table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.listing import listed
from plugins.zoho_books.testing.standin.routing import Answer, Call, Handler, Route, done

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["DocumentKind", "document_routes"]


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """``collection``: the path below /books/v3; ``one``: the key of one record in an answer;
    ``what``: its name in a not-found message; ``equal``: list filters matched exactly;
    ``dated``: the list takes ``date_start``/``date_end``; ``row_filter``: any other filter
    of the list; ``list_key_varies``: the list key is the stand-in's ``payments_list_key``."""

    collection: str
    one: str
    what: str
    scope: str
    table: Callable[[Organization], dict[str, Any]]
    to_json: Callable[[Organization, Any], dict[str, Any]]
    create: Callable[[Call, dict[str, Any]], Any]
    created: str
    equal: tuple[str, ...] = ()
    dated: bool = False
    row_filter: Callable[[dict[str, Any], dict[str, str]], bool] | None = None
    list_key_varies: bool = False
    operations: tuple[str, ...] = ("list", "create", "upsert", "get")


def _list(kind: DocumentKind) -> Handler:
    def handle(call: Call) -> Answer:
        org = call.org
        rows = [kind.to_json(org, record) for record in kind.table(org).values()]
        if kind.row_filter is not None:
            rows = [row for row in rows if kind.row_filter(row, call.query)]
        key = call.standin.payments_list_key if kind.list_key_varies else kind.collection
        filters = call.standin.list_filters
        return 200, listed(rows, call.query, key, filters, equal=kind.equal, by_date=kind.dated)

    return handle


def _get(kind: DocumentKind) -> Handler:
    def handle(call: Call) -> Answer:
        record = call.org._get(kind.table(call.org), call.record_id, kind.what)
        return done(**{kind.one: kind.to_json(call.org, record)})

    return handle


def _create(kind: DocumentKind) -> Handler:
    def handle(call: Call) -> Answer:
        record = kind.create(call, call.data())
        status = call.standin.create_status  # zoho.http.create_status: 201, or 200
        return done(kind.created, status, **{kind.one: kind.to_json(call.org, record)})

    return handle


def _upsert(kind: DocumentKind) -> Handler:
    """``PUT /<collection>`` with ``X-Unique-Identifier-Key``/``-Value`` (and ``X-Upsert:
    true`` to create when no record holds the value): the record updated or made."""

    def handle(call: Call) -> Answer:
        from plugins.zoho_books.testing.standin.rules import _date, _reference

        data = call.data()
        key = call.headers.get("X-Unique-Identifier-Key")
        value = call.headers.get("X-Unique-Identifier-Value")
        if not key or not value:
            raise ApiError(400, 2, "Invalid value passed for X-Unique-Identifier-Key/Value.")
        upsert = str(call.headers.get("X-Upsert", "")).lower() == "true"

        def update(record: Any) -> None:
            # Only descriptive fields change; amounts of a recorded document stay as they are.
            if "date" in data:
                record.date = _date(data["date"])
            if "reference_number" in data:
                record.reference_number = _reference(data)

        fields = {
            str(row.get("api_name") or row.get("label")): str(row.get("value"))
            for row in data.get("custom_fields") or []
            if isinstance(row, dict) and (row.get("api_name") or row.get("label"))
        }
        record, created = call.org.upsert(
            kind.table(call.org),
            key,
            value,
            (lambda: kind.create(call, data)) if upsert else None,
            update,
            body_fields=fields,
            written_from=call.standin.upsert_field_from,
        )
        shown = kind.to_json(call.org, record)
        return done("success", 201 if created else 200, **{kind.one: shown})

    return handle


def document_routes(kind: DocumentKind) -> list[Route]:
    """The kind's rows of the route table, for the operations it has."""
    path = f"/{kind.collection}"
    made = {
        "list": ("GET", path, _list(kind)),
        "create": ("POST", path, _create(kind)),
        "upsert": ("PUT", path, _upsert(kind)),
        "get": ("GET", f"{path}/<record_id>", _get(kind)),
    }
    return [
        Route(method, route_path, handler, kind.scope, kind.collection if name == "list" else None)
        for name, (method, route_path, handler) in made.items()
        if name in kind.operations
    ]
