"""Event syncs: the HitPay stand-in posts real signed webhooks to the web app on a real port;
the debounce and the interval are driven by explicit instants (no sleeps; the quota share
event syncs may spend is tests/e2e/test_event_sync_quota.py).

Every test books through the real engine into the Zoho Books stand-in and checks the books
against what HitPay holds: an event only makes the poll happen sooner, and nothing an event
says is booked unless HitPay's API confirms it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select
from support.web_server import served_in_thread

from core import clock
from core.connections.event_timing import set_event_timing
from core.scheduling.events import event_schedule, run_due_event_syncs
from core.scheduling.workers.dispatch import DueSync
from core.scheduling.workers.event_jobs import enqueue_event_sync, run_event_job
from core.store.models import Run, SourceEventRow, SourceRecord
from core.sync.engine import SyncOptions, sync
from core.web import create_app
from plugins.hitpay_source.connecting import store_webhook_salt, webhook_url
from plugins.hitpay_source.webhooks import sign
from tests.e2e.conftest import Shop, local_midnight

SALT = "e2e-salt-7c1d9f"
QUIET = timedelta(seconds=60)


@pytest.fixture
def served(shop: Shop) -> Iterator[str]:
    """The web app of ``shop.host`` on a real port, taking webhooks; its base URL."""
    with served_in_thread(create_app(shop.host, session_secret=b"x" * 32)) as base:
        yield base


def hooked(shop: Shop, base: str, *, mode: str) -> datetime:
    """Connect, enable from two days back, take webhooks; the instant the period started."""
    now = clock.now()
    since = local_midnight(now, 2)
    shop.connect(mode=mode)
    shop.enable(since=since, now=now)
    store_webhook_salt(shop.host, shop.name, SALT)
    shop.charges_api.webhooks.register(webhook_url(base, shop.name), SALT)
    return since


def events(shop: Shop) -> list[SourceEventRow]:
    with shop.host.database.session() as session:
        rows = list(session.scalars(select(SourceEventRow).order_by(SourceEventRow.id)))
        session.expunge_all()
        return rows


def runs(shop: Shop) -> list[tuple[str, str]]:
    with shop.host.database.session() as session:
        return [(r.trigger, r.outcome) for r in session.scalars(select(Run).order_by(Run.id))]


def invoiced(shop: Shop) -> dict[str, Decimal]:
    return {
        str(d["reference_number"]): Decimal(d["amount"])
        for d in shop.books()
        if d["kind"] == "invoice"
    }


def first_pending(shop: Shop) -> datetime:
    return min(row.received_at for row in events(shop) if row.handled_at is None)


@pytest.mark.vendor_fact("hitpay.webhook.events")
def test_individual_mode_books_new_charges_at_the_end_of_the_quiet_window(
    shop: Shop, served: str
) -> None:
    hooked(shop, served, mode="individual")
    sales = [shop.charges_api.add_charge(amount=Decimal(f"{10 + n}.50")) for n in range(3)]
    opened = first_pending(shop)

    early = run_due_event_syncs(shop.host, opened + QUIET - timedelta(seconds=1))
    assert early == [] and shop.books() == []

    [(name, report)] = run_due_event_syncs(shop.host, opened + QUIET)

    assert name == "shop" and not isinstance(report, str) and report.outcome == "succeeded"
    assert sorted(invoiced(shop).values()) == [Decimal("10.50"), Decimal("11.50"), Decimal("12.50")]
    assert [sale["id"] for sale in sales] and all(row.handled_at for row in events(shop))
    assert runs(shop) == [("event", "succeeded")]
    assert shop.row().last_sync_at is None  # the daily sync still runs at its time
    assert run_due_event_syncs(shop.host, opened + QUIET + timedelta(hours=1)) == []


def test_a_burst_of_a_thousand_events_makes_one_sync(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="bulk")
    for n in range(1000):
        shop.charges_api.add_charge(amount=Decimal("1.00") + n)
    assert len(events(shop)) == 1000
    opened = first_pending(shop)
    shop.charges_api.clear_requests()

    results = [
        run_due_event_syncs(shop.host, opened + QUIET + timedelta(seconds=s)) for s in (0, 1, 30)
    ]

    assert [len(r) for r in results] == [1, 0, 0]
    assert runs(shop) == [("event", "succeeded")]
    assert shop.books() == []  # bulk: the day is booked at the daily sync
    lookups = [r for r in shop.charges_api.requests if r.path.startswith("/v1/charges/")]
    assert lookups == []  # the poll read all thousand: none looked up one by one
    with shop.host.database.session() as session:
        assert session.get_one(Run, 1).counts["fetched"] >= 1000


def test_event_syncs_start_at_most_once_every_n_minutes(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    set_event_timing(shop.host.database, shop.name, every_minutes=15)
    shop.charges_api.add_charge(amount=Decimal("5.00"))
    opened = first_pending(shop)
    [(_, first)] = run_due_event_syncs(shop.host, opened + QUIET)
    assert not isinstance(first, str)

    shop.charges_api.add_charge(amount=Decimal("6.00"))
    started = opened + QUIET
    schedule = event_schedule(shop.host, shop.row(), started + timedelta(minutes=1))

    assert schedule.pending == 1 and schedule.last_event == "charge.created"
    assert schedule.next_event_sync_at == started + timedelta(minutes=15)
    assert run_due_event_syncs(shop.host, started + timedelta(minutes=14, seconds=59)) == []
    assert len(run_due_event_syncs(shop.host, started + timedelta(minutes=15))) == 1
    assert sorted(invoiced(shop).values()) == [Decimal("5.00"), Decimal("6.00")]


def test_an_event_sync_does_not_spend_the_manual_hourly_sync(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    shop.charges_api.add_charge(amount=Decimal("7.00"))
    opened = first_pending(shop)
    run_due_event_syncs(shop.host, opened + QUIET)

    manual = sync(shop.host, shop.name, SyncOptions(trigger="manual"))

    assert manual.outcome == "succeeded"
    assert runs(shop) == [("event", "succeeded"), ("manual", "succeeded")]


def test_a_manual_or_daily_sync_covers_pending_events(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    shop.charges_api.add_charge(amount=Decimal("8.00"))

    sync(shop.host, shop.name, SyncOptions(trigger="scheduled"))

    assert all(row.handled_at is not None for row in events(shop))
    assert run_due_event_syncs(shop.host, clock.now() + timedelta(hours=1)) == []


@pytest.mark.vendor_fact("hitpay.webhook.legacy_form_signature")
def test_a_payment_webhook_keyed_with_the_api_salt_makes_an_event_sync(
    shop: Shop, served: str
) -> None:
    hooked(shop, served, mode="individual")
    api_salt = "e2e-api-salt-40b7"
    shop.env |= {"HITPAY_WEBHOOK_SALT": SALT, "HITPAY_API_SALT": api_salt}
    done = shop.cli("hitpay", "webhook", "shop", "--public-url", served)
    assert done.exit_code == 0, done.output
    assert "Stored the webhook salt and API salt of shop" in done.output
    assert api_salt not in done.output and SALT not in done.output
    hitpay = shop.charges_api
    hitpay.webhooks.lose_next()  # the sale's event webhook is lost: only the form one comes
    sale = hitpay.add_charge(amount=Decimal("33.00"))
    url = webhook_url(served, shop.name)

    assert hitpay.webhooks.send_payment_webhook(url, "another-salt", sale) == 401
    assert hitpay.webhooks.send_payment_webhook(url, api_salt, sale) == 202
    [row] = events(shop)
    assert (row.object, row.object_id, row.event_type) == (
        "payment_request",
        sale["id"],
        "completed",
    )
    run_due_event_syncs(shop.host, first_pending(shop) + QUIET)

    assert list(invoiced(shop).values()) == [Decimal("33.00")]


def _signed_post(base: str, body: dict[str, Any], change: str = "created") -> int:
    raw = json.dumps(body).encode()
    headers = {
        "Hitpay-Signature": sign(SALT, raw),
        "Hitpay-Event-Object": "charge",
        "Hitpay-Event-Type": change,
    }
    return requests.post(
        f"{base}/webhooks/hitpay/shop", data=raw, headers=headers, timeout=10
    ).status_code


@pytest.mark.vendor_fact("hitpay.webhook.body_is_object_not_api_shape")
def test_a_signed_event_hitpay_does_not_confirm_books_nothing(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    real = shop.charges_api.add_charge(amount=Decimal("20.00"))
    moment = clock.now().isoformat()
    invented = {
        "id": "9f00aaaa-0000-4000-8000-000000000001",
        "status": "succeeded",
        "currency": "sgd",
        "amount": 999.0,
        "created_at": moment,
        "updated_at": moment,
    }
    altered = {**json.loads(json.dumps(real, default=str)), "amount": 2000.0}

    assert _signed_post(served, invented) == 202
    assert _signed_post(served, altered) == 202  # a new digest: a new event
    opened = first_pending(shop)
    run_due_event_syncs(shop.host, opened + QUIET)

    assert list(invoiced(shop).values()) == [Decimal("20.00")]  # HitPay's amount, once
    lookups = [r.path for r in shop.charges_api.requests if r.path.startswith("/v1/charges/")]
    assert lookups == [f"/v1/charges/{invented['id']}"]  # looked up: HitPay does not know it


@pytest.mark.vendor_fact("hitpay.webhook.retries")
def test_replays_and_redeliveries_are_stored_once_and_book_once(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    shop.charges_api.webhooks.deliver_twice()
    shop.charges_api.add_charge(amount=Decimal("30.00"))
    opened = first_pending(shop)
    run_due_event_syncs(shop.host, opened + QUIET)
    statuses = [d.status for d in shop.charges_api.webhooks.deliveries]

    assert statuses == [202, 200]
    assert len(events(shop)) == 1
    assert list(invoiced(shop).values()) == [Decimal("30.00")]


@pytest.mark.vendor_fact("hitpay.webhook.retries")
def test_updated_before_created_books_the_sale_and_its_refund(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    hitpay = shop.charges_api
    hitpay.webhooks.hold()
    # a refund in the sale's own second would leave updated_at == closed_at: a minute apart
    now = clock.now()
    sale = hitpay.add_charge(amount=Decimal("40.00"), created_at=now - timedelta(minutes=2))
    hitpay.refund(sale["id"], Decimal("15.00"), at=now - timedelta(minutes=1))
    hitpay.webhooks.release_held(reverse=True)

    assert [(r.event_type) for r in events(shop)] == ["updated", "created"]
    run_due_event_syncs(shop.host, first_pending(shop) + QUIET)

    books = shop.books()
    assert [Decimal(d["amount"]) for d in books if d["kind"] == "invoice"] == [Decimal("40.00")]
    assert [Decimal(d["amount"]) for d in books if d["kind"] == "credit_note"] == [Decimal("15.00")]


@pytest.mark.vendor_fact("hitpay.webhook.retries")
def test_a_lost_event_is_booked_by_the_next_poll(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    hitpay = shop.charges_api
    hitpay.webhooks.lose_next()
    hitpay.add_charge(amount=Decimal("50.00"))  # its event is lost
    assert events(shop) == []
    hitpay.add_charge(amount=Decimal("51.00"))
    run_due_event_syncs(shop.host, first_pending(shop) + QUIET)

    assert sorted(invoiced(shop).values()) == [Decimal("50.00"), Decimal("51.00")]


def test_every_event_lost_the_daily_sync_still_books(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    shop.charges_api.webhooks.lose_next(2)
    shop.charges_api.add_charge(amount=Decimal("60.00"))
    shop.charges_api.add_charge(amount=Decimal("61.00"))

    assert run_due_event_syncs(shop.host, clock.now() + timedelta(hours=1)) == []
    sync(shop.host, shop.name, SyncOptions(trigger="scheduled"))

    assert sorted(invoiced(shop).values()) == [Decimal("60.00"), Decimal("61.00")]


def test_a_delivery_the_app_refuses_is_retried_by_the_standin(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="individual")
    sender = shop.charges_api.webhooks
    sender.endpoints[:] = [(webhook_url(served, shop.name), "wrong-salt")]
    shop.charges_api.add_charge(amount=Decimal("70.00"))

    assert [d.status for d in sender.deliveries] == [401, 401, 401]
    assert len(sender.undelivered) == 1
    sender.endpoints[:] = [(webhook_url(served, shop.name), SALT)]
    assert sender.retry() == 0
    assert len(events(shop)) == 1


def test_status_shows_the_last_event_and_the_next_event_sync(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="bulk")
    shop.charges_api.add_charge(amount=Decimal("80.00"))
    due = first_pending(shop) + QUIET
    zone = shop.row().timezone

    shown = shop.cli("status", "shop")
    data = json.loads(shop.cli("status", "shop", "--json").output)

    assert shown.exit_code == 0, shown.output
    assert "last event: charge.created at " in shown.output and "(1 waiting)" in shown.output
    expected = due.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    assert f"next event sync: {expected}" in shown.output
    assert (data["last_event"], data["pending_events"]) == ("charge.created", 1)
    assert datetime.fromisoformat(data["next_event_sync"]) == due

    shop.cli("disable", "shop")
    assert "next event sync: sync is disabled" in shop.cli("status", "shop").output


def test_the_event_timing_is_set_with_the_webhook_command(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="bulk")
    shop.env["HITPAY_WEBHOOK_SALT"] = SALT

    done = shop.cli("hitpay", "webhook", "shop", "--every", "5", "--quiet", "10")
    wrong = shop.cli("hitpay", "webhook", "shop", "--every", "0")

    assert done.exit_code == 0, done.output
    assert "event syncs: 10 s after the first event, at most every 5 min" in done.output
    assert (
        wrong.exit_code != 0 and "out of range" in wrong.output and "Traceback" not in wrong.output
    )
    shop.charges_api.add_charge(amount=Decimal("81.00"))
    opened = first_pending(shop)
    assert run_due_event_syncs(shop.host, opened + timedelta(seconds=9)) == []
    assert len(run_due_event_syncs(shop.host, opened + timedelta(seconds=10))) == 1


class MemoryQueue:
    """Claims and a queue as Redis and Celery keep them, in memory (what the route is given)."""

    def __init__(self) -> None:
        self.claimed: set[str] = set()
        self.sent: list[DueSync] = []

    def claim(self, identities: Sequence[str]) -> list[bool]:
        fresh = [identity not in self.claimed for identity in identities]
        self.claimed.update(identities)
        return fresh

    def send(self, job: DueSync) -> None:
        self.sent.append(job)


@pytest.fixture
def on_workers(shop: Shop) -> Iterator[tuple[str, MemoryQueue]]:
    """The web app with ``--workers``: each accepted event enqueues its window's event sync."""
    queue = MemoryQueue()
    app = create_app(shop.host, session_secret=b"x" * 32)
    app.extensions["ledgersync.events"] = lambda name: enqueue_event_sync(
        shop.host, name, clock.now(), claim=queue.claim, send=queue.send
    )
    with served_in_thread(app) as base:
        yield base, queue


def test_on_workers_a_burst_enqueues_one_event_sync_per_window(
    shop: Shop, on_workers: tuple[str, MemoryQueue]
) -> None:
    base, queue = on_workers
    hooked(shop, base, mode="individual")
    for n in range(20):
        shop.charges_api.add_charge(amount=Decimal("3.00") + n)

    [job] = queue.sent
    assert job.due_at == first_pending(shop) + QUIET
    done = run_event_job(shop.host, job.name, job.due_at)
    again = run_event_job(shop.host, job.name, job.due_at)  # a redelivered message

    assert done.outcome == "succeeded" and again.outcome == "already_synced"
    assert len(invoiced(shop)) == 20
    assert runs(shop) == [("event", "succeeded")]

    shop.charges_api.add_charge(amount=Decimal("99.00"))  # the next window: after the interval
    assert len(queue.sent) == 2
    with shop.host.database.session() as session:
        started = session.get_one(Run, done.run_id).started_at
    assert queue.sent[1].due_at == started + timedelta(minutes=15)


def test_a_payout_event_makes_the_poll_read_the_payout(shop: Shop, served: str) -> None:
    hooked(shop, served, mode="bulk")
    hitpay = shop.charges_api
    hitpay.add_charge(amount=Decimal("90.00"), created_at=clock.now() - timedelta(minutes=5))
    payout = hitpay.payouts.pay_out("sgd", clock.now() - timedelta(minutes=1))
    assert payout is not None

    assert [row.object for row in events(shop)] == ["charge", "payout"]
    run_due_event_syncs(shop.host, first_pending(shop) + QUIET)

    with shop.host.database.session() as session:
        kinds = set(session.scalars(select(SourceRecord.kind)))
    assert "payout" in kinds and all(row.handled_at for row in events(shop))
