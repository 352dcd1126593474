"""The whole route table of the Books API stand-in (each resource module's ``ROUTES``)."""

from __future__ import annotations

from plugins.zoho_books.testing.standin.resources import (
    banking,
    creditnotes,
    deletes,
    expenses,
    invoices,
    organizations,
    payments,
    settings,
)
from plugins.zoho_books.testing.standin.routing import Route, route_map

__all__ = ["ROUTES", "ROUTE_MAP"]

ROUTES: list[Route] = [
    *organizations.ROUTES,
    *settings.ROUTES,
    *invoices.ROUTES,
    *payments.ROUTES,
    *expenses.ROUTES,
    *creditnotes.ROUTES,
    *banking.ROUTES,
    *deletes.ROUTES,
]
ROUTE_MAP = route_map(ROUTES)
