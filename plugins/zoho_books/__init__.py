"""Zoho Books destination: invoices, payments, expenses, credit notes, exactly once."""

from __future__ import annotations

from core import Manifest

MANIFEST = Manifest(
    name="zoho_books",
    version="0.1.0",
    summary="Zoho Books as a destination: OAuth, datacenters, limits, exactly-once writes.",
    provides=("destination:zoho_books", "command:zoho"),
    depends=("requests",),
)
