"""The stand-in's event webhooks: real signed POSTs to registered URLs, as HitPay sends them.

HitPay posts the bare object (the webhook shape, not the API shape: with ``business_id``,
``payment_provider``, ``refunded_at`` and ``order``) as JSON with ``Hitpay-Signature`` (hex
HMAC-SHA256 of the exact bytes, keyed with the endpoint's salt), ``Hitpay-Event-Object``,
``Hitpay-Event-Type`` and ``User-Agent: HitPay v2.0`` (docs/vendor-facts.md,
``hitpay.webhook.*``). HitPay's retry behaviour is not documented: a delivery answered with
anything but 2xx (or not answered) is tried ``attempts`` times at once, then kept in
:attr:`WebhookSender.undelivered` until :meth:`WebhookSender.retry` (tests never sleep).
Switches for what the evidence leaves open: lose the next events, deliver each twice, hold
events back and release them in reverse order.

:meth:`WebhookSender.send_payment_webhook` sends the older form-encoded webhook of a payment
request (``hitpay.webhook.legacy_form_signature``): the fields HitPay posts, with ``hmac`` over
them sorted by key as key+value, keyed with the API key's salt.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests

from plugins.hitpay_source.testing.standin.wire import to_json

__all__ = ["Delivery", "WebhookSender", "webhook_shape"]

BUSINESS_ID = "9a0f2c1e-5b7d-4e21-a3c4-0d6e8f1b2a3c"


def webhook_shape(charge: dict[str, Any]) -> dict[str, Any]:
    """A charge as a webhook body carries it (H-DOC events example, H-BE Charge resource)."""
    body = {
        key: copy.deepcopy(value)
        for key, value in charge.items()
        if key not in ("payment_method", "webhook_logs", "refunds", "home_currency")
    }
    method = charge.get("payment_method") or {}
    body["business_id"] = BUSINESS_ID
    body["payment_provider"] = {"code": str(method.get("name") or "card"), "charge": {}}
    refunds = charge.get("refunds") or []
    body["refunded_at"] = refunds[-1].get("created_at") if refunds else None
    body["order"] = None
    body["failed_reason"] = None
    return body


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST the stand-in made: where, which event, the answer (0: no answer)."""

    url: str
    event: str
    object_id: str
    status: int


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str
    change: str
    object_id: str
    body: bytes


class WebhookSender:
    """Registered endpoints and the events sent to them."""

    def __init__(self, attempts: int = 3, timeout: float = 10.0) -> None:
        self.attempts = attempts
        self.timeout = timeout
        self.endpoints: list[tuple[str, str]] = []  # (url, salt)
        self.deliveries: list[Delivery] = []
        self.undelivered: list[tuple[str, _Event]] = []
        self._lose = 0
        self._twice = False
        self._held: list[_Event] | None = None
        self._lock = threading.Lock()

    # -- set-up and switches -------------------------------------------------------------

    def register(self, url: str, salt: str) -> None:
        """Send every event to ``url``, signed with ``salt`` (the dashboard's endpoint)."""
        self.endpoints.append((url, salt))

    def lose_next(self, n: int = 1) -> None:
        """The next ``n`` events are never sent (a lost webhook)."""
        self._lose += n

    def deliver_twice(self, on: bool = True) -> None:
        """Send each event twice (a redelivery or a replay)."""
        self._twice = on

    def hold(self) -> None:
        """Keep events back until :meth:`release_held`."""
        self._held = []

    def release_held(self, *, reverse: bool = True) -> None:
        """Send the held events, newest first by default (``updated`` before ``created``)."""
        held, self._held = self._held or [], None
        for event in reversed(held) if reverse else held:
            self._send(event)
            if self._twice:
                self._send(event)

    # -- sending -------------------------------------------------------------------------

    def emit(self, kind: str, change: str, payload: dict[str, Any]) -> None:
        """An event happened: send it (unless lost or held)."""
        if not self.endpoints:
            return
        body = to_json(payload).encode("utf-8")
        event = _Event(kind, change, str(payload.get("id")), body)
        with self._lock:
            if self._lose:
                self._lose -= 1
                return
            if self._held is not None:
                self._held.append(event)
                return
        self._send(event)
        if self._twice:
            self._send(event)

    def retry(self) -> int:
        """Try the undelivered events again; how many are still undelivered."""
        with self._lock:
            waiting, self.undelivered = self.undelivered, []
        for url, event in waiting:
            if not self._post(url, self._salt(url), event):
                with self._lock:
                    self.undelivered.append((url, event))
        return len(self.undelivered)

    def send_payment_webhook(
        self,
        url: str,
        api_salt: str,
        charge: dict[str, Any],
        *,
        status: str = "completed",
        payment_request_id: str = "",
        reference_number: str = "",
    ) -> int:
        """POST a payment request's form webhook about ``charge`` to ``url``; the answer."""
        fields = {
            "payment_id": str(charge["id"]),
            "payment_request_id": payment_request_id or f"pr-{charge['id']}",
            "phone": "",
            "amount": f"{Decimal(str(charge['amount'])):.2f}",
            "currency": str(charge["currency"]).upper(),
            "status": status,
            "reference_number": reference_number,
        }
        source = "".join(f"{key}{value}" for key, value in sorted(fields.items()))
        fields["hmac"] = hmac.new(
            api_salt.encode("utf-8"), source.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        try:
            answer = requests.post(
                url,
                data=urlencode(fields).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.timeout,
            ).status_code
        except requests.RequestException:
            answer = 0
        with self._lock:
            self.deliveries.append(
                Delivery(url, f"payment_request.{status}", fields["payment_id"], answer)
            )
        return answer

    def _salt(self, url: str) -> str:
        return next(salt for known, salt in self.endpoints if known == url)

    def _send(self, event: _Event) -> None:
        for url, salt in list(self.endpoints):
            if not any(self._post(url, salt, event) for _ in range(self.attempts)):
                with self._lock:
                    self.undelivered.append((url, event))

    def _post(self, url: str, salt: str, event: _Event) -> bool:
        signature = hmac.new(salt.encode("utf-8"), event.body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HitPay v2.0",
            "Hitpay-Signature": signature,
            "Hitpay-Event-Object": event.kind,
            "Hitpay-Event-Type": event.change,
        }
        try:
            status = requests.post(
                url, data=event.body, headers=headers, timeout=self.timeout
            ).status_code
        except requests.RequestException:
            status = 0
        with self._lock:
            self.deliveries.append(
                Delivery(url, f"{event.kind}.{event.change}", event.object_id, status)
            )
        return 200 <= status < 300
