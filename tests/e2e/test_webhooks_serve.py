"""End to end: the HitPay stand-in sends signed webhooks to a running `ledgersync serve`, whose
event-sync thread books the new charges in the Zoho Books stand-in; a forged signature, a
replay, an `updated` before its `created`, an oversized body and a lost event each do what
they must, and the books equal what HitPay holds.

The only wait is a bounded poll of the books (observable state), never a sleep: the quiet
window is set to a few seconds and every event is released at once, well inside it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select as query

from core import clock
from core.store.models import Run, SourceEventRow
from plugins.hitpay_source.connecting import webhook_url
from plugins.hitpay_source.webhooks import sign
from tests.e2e.conftest import LEDGERSYNC, ZOHO_ENV, Shop, local_midnight

SALT = "serve-salt-5e2a"
QUIET_SECONDS = 5


@pytest.fixture
def serve(shop: Shop) -> Iterator[str]:
    """``ledgersync --db URL serve --port 0`` as a real process; its base URL."""
    env = os.environ | ZOHO_ENV | {"LEDGERSYNC_WEB_PASSWORD": "operator:a long enough password"}
    process = subprocess.Popen(
        [str(LEDGERSYNC), "--db", shop.db_url, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if "http://" not in line:
            process.kill()
            _, errors = process.communicate(timeout=10)
            raise AssertionError(f"ledgersync serve did not start: {line!r} {errors[-2000:]}")
        yield "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_event_sync(shop: Shop, within: float = 90) -> None:
    """Return once an event sync has finished (a bounded poll of observable state)."""
    deadline = time.monotonic() + within
    while True:
        with shop.host.database.session() as session:
            finished = session.scalar(
                query(Run.id).where(Run.trigger == "event", Run.finished_at.is_not(None))
            )
        if finished is not None:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no event sync finished within {within:.0f}s")
        time.sleep(0.2)  # poll interval of a bounded wait on the store


def _post(url: str, body: bytes, signature: str) -> int:
    headers = {
        "Hitpay-Signature": signature,
        "Hitpay-Event-Object": "charge",
        "Hitpay-Event-Type": "created",
    }
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


@pytest.mark.vendor_fact("hitpay.webhook.events", "hitpay.webhook.retries")
def test_signed_events_to_ledgersync_serve_book_exactly_what_hitpay_holds(
    shop: Shop, serve: str
) -> None:
    now = clock.now()
    shop.connect(mode="individual")
    shop.enable(since=local_midnight(now, 2), now=now)
    shop.env["HITPAY_WEBHOOK_SALT"] = SALT
    done = shop.cli(
        "hitpay", "webhook", "shop", "--public-url", serve, "--quiet", f"{QUIET_SECONDS}"
    )
    assert done.exit_code == 0, done.output
    url = webhook_url(serve, "shop")
    hitpay = shop.charges_api
    sender = hitpay.webhooks
    sender.register(url, SALT)

    sender.hold()  # everything below arrives at once, newest first: `updated` before `created`
    first = hitpay.add_charge(amount=Decimal("25.00"), created_at=now - timedelta(minutes=2))
    hitpay.refund(first["id"], Decimal("5.00"), at=now - timedelta(minutes=1))
    sender.lose_next()
    lost = hitpay.add_charge(amount=Decimal("33.30"))  # its event never comes
    replayed = hitpay.add_charge(amount=Decimal("41.00"))
    forged_body = json.dumps({"id": "forged-1", "amount": 999, "status": "succeeded"}).encode()
    oversized = json.dumps({"id": "big-1", "remark": "x" * 300_000}).encode()
    forged = _post(url, forged_body, sign("not-the-salt", forged_body))
    too_big = _post(url, oversized, sign(SALT, oversized))
    sender.deliver_twice()  # and each one twice (a redelivery)
    sender.release_held(reverse=True)
    wait_for_event_sync(shop)
    books = shop.books()

    assert (forged, too_big) == (401, 413)
    assert [d.status for d in sender.deliveries] == [202, 200] * 3
    invoices = sorted(Decimal(str(d["amount"])) for d in books if d["kind"] == "invoice")
    assert invoices == [Decimal("25.00"), Decimal("33.30"), Decimal("41.00")]
    credit_notes = [Decimal(str(d["amount"])) for d in books if d["kind"] == "credit_note"]
    assert credit_notes == [Decimal("5.00")]
    references = [str(d["reference_number"]) for d in books]
    assert len(references) == len(set(references))  # nothing twice
    assert lost["id"] and replayed["id"]
    with shop.host.database.session() as session:
        triggers = [r.trigger for r in session.scalars(query(Run))]
        stored = len(list(session.scalars(query(SourceEventRow))))
    assert triggers == ["event"]  # one sync for the whole burst
    assert stored == 3  # created + updated of the first sale, the replayed sale once
