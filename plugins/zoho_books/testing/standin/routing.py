"""The stand-in's route table: what each request is, who may make it, and who answers it.

Every endpoint of the Books API the stand-in serves is one :class:`Route` (method, path
pattern, handler, OAuth scope module, list key). The handlers live by resource in
``resources/``; each module exports its ``ROUTES``, gathered in ``routes.py``. A handler takes a
:class:`Call` and returns an :data:`Answer` (HTTP status and JSON body); the server adds the
envelope, the quota headers and the errors (``envelope.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.datastructures import Headers
from werkzeug.routing import Map, Rule

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.listing import ListFilters

if TYPE_CHECKING:
    from plugins.zoho_books.testing.standin.resources.deletes import DeleteRules
    from plugins.zoho_books.testing.standin.state import Organization

__all__ = ["Answer", "Call", "Route", "StandInVariants", "done", "route_map", "the_object"]

Answer = tuple[int, dict[str, Any]]
OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


class StandInVariants(Protocol):
    """What a handler may read of the stand-in: its organizations and its variants."""

    organizations: dict[str, Organization]
    payments_list_key: str
    upsert_field_from: str
    items_active_only_by_default: bool
    create_status: int
    contact_list_notes: bool

    @property
    def list_filters(self) -> ListFilters: ...

    def delete_rules(self, organization_id: str) -> DeleteRules: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a handler sees it; ``org`` is None only for organization routes."""

    standin: StandInVariants
    route: Route
    org_or_none: Organization | None
    query: dict[str, str]
    body: Any
    headers: Headers
    values: dict[str, str] = field(default_factory=dict)

    @property
    def org(self) -> Organization:
        assert self.org_or_none is not None, "an organization route has no organization"
        return self.org_or_none

    @property
    def record_id(self) -> str:
        return self.values["record_id"]

    def data(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        return the_object(self.body)


Handler = Callable[[Call], Answer]


@dataclass(frozen=True, slots=True)
class Route:
    """``scope`` is the OAuth module (``ZohoBooks.<scope>.<operation>``, the operation from
    the method); ``list_key`` names the rows of a list answer; ``organization`` is False for
    the endpoints that take no ``organization_id``."""

    method: str
    path: str
    handler: Handler
    scope: str
    list_key: str | None = None
    organization: bool = True

    @property
    def operation(self) -> str:
        return OPERATIONS[self.method]


def route_map(routes: list[Route]) -> Map:
    """werkzeug's matcher over the table; a match's endpoint is the route's index."""
    return Map(
        [Rule(r.path, endpoint=n, methods=[r.method]) for n, r in enumerate(routes)],
        strict_slashes=False,
    )


def the_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, 4, "Invalid value passed for JSONString")
    return body


def done(message: str = "success", status: int = 200, /, **rows: Any) -> Answer:
    """A successful answer: ``code`` 0, Zoho's message, and the named objects or rows."""
    return status, {"code": 0, "message": message, **rows}
