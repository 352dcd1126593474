"""A faithful HitPay API stand-in: real HTTP on 127.0.0.1, seeded data, injectable faults."""

from plugins.hitpay_source.testing.standin.api import RecordedRequest
from plugins.hitpay_source.testing.standin.ledger import Unprocessable, Variant
from plugins.hitpay_source.testing.standin.seed import UNKNOWN_CHANNEL
from plugins.hitpay_source.testing.standin.server import HitPayStandIn

__all__ = ["UNKNOWN_CHANNEL", "HitPayStandIn", "RecordedRequest", "Unprocessable", "Variant"]
