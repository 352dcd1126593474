"""The Reconcile and Verify tabs of a connection, and the last reconcile on its integration
page: what `ledgersync reconcile` and `ledgersync verify` say, in the browser, escaped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core import clock
from core.connections.lifecycle import enable
from core.connections.settings import SettingsChange, change_settings
from core.sync.engine import SyncOptions, sync
from web.conftest import AtPage, Shop


def _synced(shop: Shop) -> None:
    shop.connect()
    change_settings(shop.host, "shop", SettingsChange(mode="individual"))  # books it at once
    now = clock.now()
    enable(shop.host, "shop", since=now - timedelta(minutes=1), now=now - timedelta(minutes=1))
    shop.hitpay.standin.add_charge(amount=Decimal("7.00"), currency="sgd")
    report = sync(shop.host, "shop", SyncOptions(trigger="manual", force=True))
    assert report.outcome == "succeeded", report.error


def test_reconcile_and_verify_pages_show_the_three_views_and_the_findings(
    page: AtPage, shop: Shop
) -> None:
    _synced(shop)
    before = page.get("/connections/shop").get_data(as_text=True)
    assert 'id="last-reconcile"' in before and "never: reconcile now" in before

    reconciled = page.get("/connections/shop/reconcile").get_data(as_text=True)

    assert 'id="reconcile"' in reconciled and 'id="currency-SGD"' in reconciled
    assert 'aria-current="page"' in reconciled
    after = page.get("/connections/shop").get_data(as_text=True)
    assert "never: reconcile now" not in after
    assert "difference(s)" in after or "ties out" in after

    clean = page.get("/connections/shop/verify").get_data(as_text=True)
    assert "clean" in clean and 'id="findings"' not in clean
    with shop.zoho.standin.lock:
        books = shop.zoho.standin.organizations[shop.zoho.connected["shop"].organization_id]
        payment = next(iter(books.payments.values()))
        payment.amount += Decimal("1.00")
    changed = page.get("/connections/shop/verify").get_data(as_text=True)
    assert 'id="findings"' in changed and "changed" in changed
    assert f"{payment.reference_number}" in changed and "is now" in changed
    assert "ledgersync verify shop --repair" in changed


def test_the_pages_of_a_connection_without_books_say_why_in_one_line(
    page: AtPage, shop: Shop
) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    for path in ("reconcile", "verify"):
        answer = page.get(f"/connections/shop/{path}")
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert 'id="problem"' in text and "Traceback" not in text
