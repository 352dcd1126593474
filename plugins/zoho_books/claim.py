"""The organization's claim (``core/sync/claims.py``), kept in Zoho Books as a contact's notes.

One vendor contact named ``CLAIM_CONTACT`` holds, in its ``notes`` (zoho.contact.notes_update),
which ledgersync store writes to the organization and when it last did. A contact because
every organization has contacts and the connection's scopes already cover them; a name because
Zoho refuses a second contact of the same name (code 3062), which settles two stores claiming
in the same moment: the second create is refused and reads the first one's claim.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.api import Claim, TransientError
from plugins.zoho_books.client import BooksClient, BooksRejected
from plugins.zoho_books.metadata import DUPLICATE_CONTACT_NAME

__all__ = ["CLAIM_CONTACT", "claim_notes", "parse_claim", "read_claim", "write_claim"]

CLAIM_CONTACT = "ledgersync organization claim"
_HEADER = "ledgersync: one store writes to this organization. Do not edit."
_FIELDS = ("store", "connection", "host", "seen")


def claim_notes(claim: Claim) -> str:
    seen = claim.seen_at.astimezone(UTC).isoformat()
    values = (claim.holder, claim.connection, claim.host, seen)
    return "\n".join([_HEADER, *(f"{k}: {v}" for k, v in zip(_FIELDS, values, strict=True))])


def parse_claim(notes: object) -> Claim | None:
    """The claim in a contact's notes; None for notes that hold none (edited, emptied)."""
    if not isinstance(notes, str):
        return None
    fields: dict[str, str] = {}
    for line in notes.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() in _FIELDS:
            fields[key.strip()] = value.strip()
    if set(fields) != set(_FIELDS) or not fields["store"]:
        return None
    try:
        seen = datetime.fromisoformat(fields["seen"])
    except ValueError:
        return None
    if seen.tzinfo is None:
        return None
    return Claim(fields["store"], fields["connection"], fields["host"], seen.astimezone(UTC))


def _contact(client: BooksClient) -> dict[str, Any] | None:
    rows = client.list_all("/contacts", "contacts", {"contact_name": CLAIM_CONTACT})
    return next((row for row in rows if row.get("contact_name") == CLAIM_CONTACT), None)


def _notes(client: BooksClient, row: dict[str, Any]) -> object:
    if "notes" in row:
        return row["notes"]
    # A list row may leave the notes out: the contact itself has them.
    return (client.get(f"/contacts/{row['contact_id']}").get("contact") or {}).get("notes")


def read_claim(client: BooksClient) -> Claim | None:
    row = _contact(client)
    return None if row is None else parse_claim(_notes(client, row))


def write_claim(client: BooksClient, claim: Claim) -> Claim:
    notes = claim_notes(claim)
    row = _contact(client)
    if row is not None:
        client.put(f"/contacts/{row['contact_id']}", {"notes": notes})
        return claim
    body = {"contact_name": CLAIM_CONTACT, "contact_type": "vendor", "notes": notes}
    try:
        client.post("/contacts", body)
        return claim
    except BooksRejected as refused:
        if refused.code != DUPLICATE_CONTACT_NAME:
            raise
    # Created meanwhile: by this store (an answer lost) or by another one; read whose it is.
    held = read_claim(client)
    if held is None:
        raise TransientError(
            f"Zoho Books has a contact named {CLAIM_CONTACT!r} the claim cannot be read from.",
            "The next sync looks again.",
        )
    return held
