"""Every page of a connected shop renders for the operator."""

from __future__ import annotations

from web.conftest import AtPage, Shop


def test_each_page_of_a_connected_shop_renders(page: AtPage, shop: Shop) -> None:
    shop.connect()
    for path in [
        "/connections",
        "/connections/new",
        "/connections/shop",
        "/connections/shop/history",
        "/connections/shop/ledger",
        "/connections/shop/quarantine",
        "/connections/shop/why?charge=nope",
        "/connections/shop/reconcile",
        "/connections/shop/verify",
        "/connections/shop/disconnect",
        "/connections/shop/sync",
    ]:
        answer = page.get(path)
        assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:2000])
