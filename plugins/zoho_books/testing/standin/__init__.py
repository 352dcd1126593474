"""A faithful Zoho Books stand-in (accounts server + Books API) for tests and the demo."""

from plugins.zoho_books.testing.standin.server import (
    ALL_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RecordedRequest,
    SeededOrganization,
    ZohoBooksStandIn,
)

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "RecordedRequest",
    "SeededOrganization",
    "ZohoBooksStandIn",
]
