"""The HitPay stand-in's webhooks, as HitPay sends them: real signed POSTs of the bare object
in the webhook shape, with HitPay's headers, retried when not answered 2xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugins.hitpay_source.testing.standin import HitPayStandIn

SALT = "standin-salt-01"


class Receiver:
    """A tiny HTTP endpoint on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answer = 200
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.received.append((dict(request.headers), request.get_data()))
        return Response("ok", status=self.answer)(environ, start_response)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.thread.join()


@pytest.mark.vendor_fact(
    "hitpay.webhook.events",
    "hitpay.webhook.headers",
    "hitpay.webhook.signature_hmac_raw_body",
    "hitpay.webhook.body_is_object_not_api_shape",
)
def test_a_sale_and_its_refund_are_sent_signed_in_the_webhook_shape(
    standin: HitPayStandIn, receiver: Receiver
) -> None:
    standin.webhooks.register(receiver.url, SALT)

    sale = standin.add_charge(amount=Decimal("12.00"))
    standin.refund(sale["id"], Decimal("2.00"))

    assert len(receiver.received) == 2
    for (head, body), change in zip(receiver.received, ("created", "updated"), strict=True):
        expected = hmac.new(SALT.encode(), body, hashlib.sha256).hexdigest()
        assert head["Hitpay-Signature"] == expected
        assert (head["Hitpay-Event-Object"], head["Hitpay-Event-Type"]) == ("charge", change)
        assert head["User-Agent"] == "HitPay v2.0"
        charge = json.loads(body)
        assert charge["id"] == sale["id"]
        assert {"business_id", "payment_provider", "refunded_at", "order"} <= set(charge)
        assert "payment_method" not in charge and "webhook_logs" not in charge
    refunded = json.loads(receiver.received[1][1])
    assert refunded["refunded_amount"] == 2 and refunded["refunded_at"] is not None


@pytest.mark.vendor_fact("hitpay.webhook.retries")
def test_a_refused_delivery_is_retried_then_kept_until_retry(
    standin: HitPayStandIn, receiver: Receiver
) -> None:
    standin.webhooks.register(receiver.url, SALT)
    receiver.answer = 500

    standin.add_charge(amount=Decimal("5.00"))
    assert [d.status for d in standin.webhooks.deliveries] == [500, 500, 500]
    receiver.answer = 204

    assert standin.webhooks.retry() == 0
    assert [d.status for d in standin.webhooks.deliveries][-1] == 204
    assert len(receiver.received) == 4


@pytest.mark.vendor_fact("hitpay.webhook.retries")
def test_switches_lose_repeat_and_reorder_events(
    standin: HitPayStandIn, receiver: Receiver
) -> None:
    standin.webhooks.register(receiver.url, SALT)
    standin.webhooks.lose_next()
    standin.add_charge(amount=Decimal("1.00"))
    standin.webhooks.deliver_twice()
    standin.add_charge(amount=Decimal("2.00"))
    standin.webhooks.deliver_twice(False)
    standin.webhooks.hold()
    sale = standin.add_charge(amount=Decimal("3.00"))
    standin.refund(sale["id"], Decimal("1.00"))
    standin.webhooks.release_held()

    kinds = [
        (json.loads(body)["amount"], head["Hitpay-Event-Type"]) for head, body in receiver.received
    ]
    assert kinds == [(2, "created"), (2, "created"), (3, "updated"), (3, "created")]


@pytest.mark.vendor_fact("hitpay.webhook.events", "hitpay.webhook.headers")
def test_a_payout_is_sent_as_payout_created(standin: HitPayStandIn, receiver: Receiver) -> None:
    sale = standin.add_charge(amount=Decimal("50.00"))
    standin.webhooks.register(receiver.url, SALT)

    payout = standin.payouts.pay_out("sgd", standin.ledger.clock())

    assert payout is not None and sale["id"]
    [(head, body)] = receiver.received
    assert (head["Hitpay-Event-Object"], head["Hitpay-Event-Type"]) == ("payout", "created")
    assert head["Hitpay-Signature"] == hmac.new(SALT.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["id"] == payout["id"]
