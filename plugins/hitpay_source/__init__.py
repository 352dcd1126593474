"""HitPay source: charges, fees and refunds from HitPay's API."""

from __future__ import annotations

from core import Manifest

MANIFEST = Manifest(
    name="hitpay",
    version="0.1.0",
    summary="HitPay payment gateway as a source: charges, fees, refunds, sales channels.",
    provides=("source:hitpay", "command:hitpay"),
    depends=("requests",),
)
