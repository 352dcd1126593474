"""The organization's claim kept in Zoho Books (``plugins/zoho_books/claim.py``): the notes of
one vendor contact, written with POST then PUT /contacts/{id}, read back by the host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.contracts import Claim, ClaimKeeper
from plugins.zoho_books.claim import CLAIM_CONTACT, parse_claim
from plugins.zoho_books.destination import ZohoBooksDestination
from plugins.zoho_books.testing.standin import SeededOrganization, ZohoBooksStandIn
from zoho_books.helpers import Build

SEEN = datetime(2026, 12, 31, 7, 59, 30, tzinfo=UTC)


@pytest.mark.vendor_fact("zoho.contact.notes_update", "zoho.contact.create")
@pytest.mark.parametrize("list_notes", [True, False], ids=["list-rows-with-notes", "without"])
def test_the_claim_is_a_contacts_notes_written_once_then_updated_in_place(
    zoho: ZohoBooksStandIn, build: Build, org: SeededOrganization, list_notes: bool
) -> None:
    """Whether a contact's list row carries its notes is not documented: either way the claim
    reads back (without them, from the contact itself)."""
    zoho.contact_list_notes = list_notes
    destination = build()
    assert isinstance(destination, ClaimKeeper)
    assert destination.read_claim() is None
    first = Claim("store-a", "shop", "host-a", SEEN)
    assert destination.write_claim(first) == first
    later = Claim("store-b", "shop", "host-b", SEEN + timedelta(days=4))

    assert destination.write_claim(later) == later

    assert destination.read_claim() == later
    contact_reads = [r for r in zoho.api_requests("GET") if r.path.startswith("/contacts/")]
    assert bool(contact_reads) is not list_notes, "the contact itself is read only when needed"
    named = [r for r in zoho.api_requests(path="/contacts") if r.method == "POST"]
    assert len(named) == 1 and named[0].body["contact_type"] == "vendor"
    updates = [r for r in zoho.api_requests("PUT") if r.path.startswith("/contacts/")]
    assert len(updates) == 1 and set(updates[0].body) == {"notes"}
    raw = requests.get(
        f"{zoho.api_url}/books/v3{updates[0].path}",
        params={"organization_id": org.organization_id},
        headers={"Authorization": f"Zoho-oauthtoken {destination.tokens.current()}"},
        timeout=5,
    ).json()["contact"]
    assert raw["contact_name"] == CLAIM_CONTACT and "store: store-b" in raw["notes"]


def test_a_second_destination_reads_the_first_ones_claim(build: Build) -> None:
    one: ZohoBooksDestination = build()
    one.write_claim(Claim("store-a", "shop", "host-a", SEEN))

    assert build().read_claim() == Claim("store-a", "shop", "host-a", SEEN)


@pytest.mark.parametrize(
    "notes",
    ["", None, "edited by hand", "store: x\nconnection: y\nhost: z\nseen: yesterday",
     "store: x\nconnection: y\nhost: z\nseen: 2026-12-31T07:59:30"],  # no offset
)  # fmt: skip
def test_notes_that_hold_no_claim_read_as_no_claim(notes: object) -> None:
    assert parse_claim(notes) is None
