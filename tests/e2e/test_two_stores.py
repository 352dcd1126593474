"""One live store per organization: a second store connected to the same Zoho Books
organization is refused before it writes anything, and says which store holds it; the one
that holds it goes on as before. After a real store loss the operator takes over with
`ledgersync claim NAME --take-over`, and the rebuilt store adopts what the lost one wrote."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core import clock
from core.host import Host
from core.plugins import get_plugins
from core.sync.engine import SyncOptions, sync
from e2e.conftest import Shop, local_midnight, seed_sales
from e2e.test_cli_sync import assert_ties_out, kinds
from e2e.test_store_loss import _connect_through_cli, _lose_the_store
from plugins.zoho_books.testing.standin import SeededOrganization

REFUSED = "is written by another ledgersync store: store "


def _writes(shop: Shop) -> int:
    return sum(1 for r in shop.zoho_api.api_requests() if r.method != "GET")


def _second_store(shop: Shop, tmp_path: Path) -> Shop:
    url = f"sqlite:///{tmp_path / 'second-store.sqlite'}"
    return dataclasses.replace(shop, db_url=url, host=Host(url, plugins=get_plugins()))


def _first_store_synced(shop: Shop) -> tuple[datetime, datetime, SeededOrganization]:
    """Three days of sales, connected through the CLI and synced by the first store."""
    now = clock.now()
    since = local_midnight(now, 3)
    seed_sales(shop.charges_api, since)
    org = shop.zoho_api.create_organization("Shop Pte Ltd")
    shop.adopt(org)
    _connect_through_cli(shop, org, since)
    assert shop.cli("sync", "shop").exit_code == 0
    return now, since, org


def test_a_second_live_store_on_one_organization_is_refused_and_writes_nothing(
    shop: Shop, tmp_path: Path
) -> None:
    now, since, org = _first_store_synced(shop)
    books = sorted(str(d["reference_number"]) for d in shop.books())
    second = _second_store(shop, tmp_path)
    try:
        connected = _connect_through_cli(second, org, since)
        assert "The organization is claimed by another ledgersync store: store " in connected
        assert "`ledgersync claim shop --take-over`" in connected
        shop.charges_api.add_charge(amount=Decimal("9.90"),
                                    created_at=since + timedelta(days=2, hours=9))  # fmt: skip
        writes = _writes(shop)

        refused = second.cli("sync", "shop", "--json")

        assert refused.exit_code == 1, refused.output
        report = json.loads(refused.output)
        assert report["outcome"] == "failed" and REFUSED in report["error"]
        assert "(connection 'shop' on host " in report["error"] and "last seen " in report["error"]
        assert "Traceback" not in refused.output
        assert _writes(shop) == writes, "the refused store wrote to the organization"
        assert sorted(str(d["reference_number"]) for d in shop.books()) == books
        shown = second.cli("claim", "shop")
        assert "Another store claims the organization of shop: store " in shown.output
        assert second.cli("sync", "shop", "--force").exit_code == 1  # still refused

        held = shop.cli("sync", "shop", "--force", "--json")  # the first store goes on
        assert held.exit_code == 0, held.output
        assert json.loads(held.output)["created"] == {"expense": 1, "invoice": 1, "payment": 1}
        assert "This store claims the organization of shop" in shop.cli("claim", "shop").output
        assert_ties_out(shop, since, now)
    finally:
        second.host.close()


def test_a_lost_store_is_taken_over_by_the_rebuilt_one_which_adopts_and_books_exactly(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now, since, org = _first_store_synced(shop)
    written = sorted(str(d["reference_number"]) for d in shop.books())

    _lose_the_store(shop, monkeypatch)
    _connect_through_cli(shop, org, since)
    assert REFUSED in json.loads(shop.cli("sync", "shop", "--json").output)["error"]
    taken = shop.cli("claim", "shop", "--take-over")
    assert taken.exit_code == 0, taken.output
    assert "Took the organization of shop over from store " in taken.output
    again = shop.cli("sync", "shop", "--force", "--json")

    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["created"] == {}, "a document was created twice"
    assert report["adopted"] == kinds(shop.books())
    assert sorted(str(d["reference_number"]) for d in shop.books()) == written
    assert_ties_out(shop, since, now)
    claimed = json.loads(shop.cli("claim", "shop", "--json").output)
    assert claimed["this_store_holds_it"] is True


def test_a_claim_not_renewed_for_three_days_is_taken_over_by_the_next_sync(
    shop: Shop, tmp_path: Path
) -> None:
    now, since, org = _first_store_synced(shop)
    listed = kinds(shop.books())
    second = _second_store(shop, tmp_path)
    try:
        _connect_through_cli(second, org, since)
        almost = now + timedelta(days=3) - timedelta(minutes=1)
        early = sync(second.host, "shop", SyncOptions(force=True, now=almost))
        assert early.outcome == "failed" and REFUSED in early.error

        later = now + timedelta(days=3, minutes=1)
        report = sync(second.host, "shop", SyncOptions(force=True, now=later))

        assert report.outcome == "succeeded", report.error
        assert not report.documents_delivered, "the second store created again"
        assert dict(report.adopted) == listed
        assert kinds(shop.books()) == listed
        back = sync(shop.host, "shop", SyncOptions(force=True, now=later + timedelta(minutes=5)))
        assert back.outcome == "failed" and REFUSED in back.error  # the old one now stands down
    finally:
        second.host.close()


def test_a_second_store_cannot_roll_back_what_the_first_one_booked(
    shop: Shop, tmp_path: Path
) -> None:
    now, since, org = _first_store_synced(shop)
    books = sorted(str(d["reference_number"]) for d in shop.books())
    second = _second_store(shop, tmp_path)
    try:
        _connect_through_cli(second, org, since)
        writes = _writes(shop)
        day = since.date().isoformat()

        refused = second.cli("rollback", "shop", "--since", day, "--yes", "--json")

        assert refused.exit_code == 1, refused.output
        report = json.loads(refused.output)
        assert report["outcome"] == "failed" and REFUSED in report["error"], report
        assert _writes(shop) == writes, "the refused store wrote to the organization"
        assert sorted(str(d["reference_number"]) for d in shop.books()) == books
        assert_ties_out(shop, since, now)
    finally:
        second.host.close()
