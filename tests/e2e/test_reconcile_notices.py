"""Scheduled syncs reconcile afterwards: what only a person can settle (a payout held, the books
changed in Zoho) is sent once per difference through the notifiers, however many syncs still
find it, and a "ties out again" notice closes the episode. `status` shows it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from support.notifiers import InboxNotifier, InboxPlugin

from core import clock
from core.connections.settings import SettingsChange, change_settings
from core.contracts import NoticeKind
from core.scheduling.runner import run_due
from e2e.conftest import Shop, local_midnight
from e2e.test_payouts import _connect, _month


def _notices() -> list[tuple[str, list[str]]]:
    kinds = {NoticeKind.BOOKS_DIFFER, NoticeKind.BOOKS_TIE}
    return [
        (str(n.kind), n.message.splitlines()) for n in InboxNotifier.received if n.kind in kinds
    ]


def test_a_difference_is_told_once_and_its_end_too(shop: Shop) -> None:
    day0 = local_midnight(clock.now(), 10)
    _month(shop, day0)
    _connect(shop, day0 + timedelta(days=1), adjustments=False)  # two payouts will be held
    shop.host.plugins.register(InboxPlugin(), name="inbox")
    InboxNotifier.received.clear()
    first = day0 + timedelta(days=4, hours=3)

    ran = run_due(shop.host, first)

    assert [r.report and r.report.outcome for r in ran] == ["succeeded"]
    [(kind, lines)] = _notices()
    assert kind == "books_differ" and len(lines) == 2
    assert all(line.startswith("SGD: payout ") and "--adjustment-account" in line for line in lines)
    status = shop.cli("status", "shop").output
    assert "needs you: SGD: payout " in status

    InboxNotifier.received.clear()
    assert run_due(shop.host, first + timedelta(days=1))  # the daily sync finds the same
    assert _notices() == []

    with shop.zoho_api.lock:
        books = shop.zoho_api.organizations[shop.organization_id]
        payment = next(
            p for p in books.payments.values() if p.currency_id == books.base_currency().currency_id
        )
        payment.amount += Decimal("1.00")  # a bookkeeper's edit: a new difference
    assert run_due(shop.host, first + timedelta(days=2))
    [(kind, lines)] = _notices()
    assert kind == "books_differ" and len(lines) == 1
    assert "1.00 SGD was changed in the destination" in lines[0]

    InboxNotifier.received.clear()
    with shop.zoho_api.lock:
        payment.amount -= Decimal("1.00")
    org = shop.zoho.connected[shop.name]
    change_settings(shop.host, "shop", SettingsChange(adjustment_account=org.adjustment_account))
    assert run_due(shop.host, first + timedelta(days=3))
    assert [kind for kind, _ in _notices()] == ["books_tie"]
    assert "needs you" not in shop.cli("status", "shop").output
    InboxNotifier.received.clear()
    assert run_due(shop.host, first + timedelta(days=4))
    assert _notices() == []
