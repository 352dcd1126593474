"""Organizations: the only routes that take no ``organization_id``."""

from __future__ import annotations

from plugins.zoho_books.testing.standin.errors import ApiError
from plugins.zoho_books.testing.standin.routing import Answer, Call, Route, done

__all__ = ["ROUTES"]


def organizations(call: Call) -> Answer:
    return done(organizations=[o.to_json() for o in call.standin.organizations.values()])


def organization(call: Call) -> Answer:
    found = call.standin.organizations.get(call.values["organization_id"])
    if found is None:
        raise ApiError(404, 1002, "Organization does not exist.")
    return done(organization=found.to_json())


ROUTES = [
    Route("GET", "/organizations", organizations, "settings", "organizations", False),
    Route("GET", "/organizations/<organization_id>", organization, "settings", None, False),
]
