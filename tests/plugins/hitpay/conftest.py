"""HitPay tests run against the stand-in over real HTTP, through a real store and Host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.connections.setup import connect_source
from core.contracts import FetchWindow
from core.host import Host
from core.records import Charge, Quarantined, Refund
from core.store.repository import CallCounter
from plugins.hitpay_source.source import HitPaySource, key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn

# Retries without waiting: backoff 0, short timeouts (tests never sleep).
FAST = {"backoff_factor": 0, "attempts": 3, "connect_timeout": 2, "read_timeout": 2}

SourceFactory = Callable[..., tuple[HitPaySource, CallCounter]]


@pytest.fixture
def standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn() as server:
        yield server


@pytest.fixture
def open_source(host: Host, secret_key: str, standin: HitPayStandIn) -> SourceFactory:
    """``open_source(**config)``: the HitPay source of a fresh connection, built by the Host."""
    made: list[str] = []

    def make(api_key: str | None = None, **config: Any) -> tuple[HitPaySource, CallCounter]:
        key = api_key or standin.api_key
        name = f"shop{len(made)}"
        made.append(name)
        connect_source(
            host,
            name,
            source="hitpay",
            source_account=key_fingerprint(key) + name,
            config={"api_url": standin.url, **FAST, **config},
            secrets={"api_key": key},
            timezone=standin.timezone,
        )
        source, calls = host.open_source(name)
        assert isinstance(source, HitPaySource)
        return source, calls

    return make


def window(start: datetime, end: datetime, refunds_since: datetime | None = None) -> FetchWindow:
    return FetchWindow(
        start=start, end=end, refunds_since=refunds_since or start - timedelta(days=120)
    )


def split(
    items: list[Charge | Refund | Quarantined],
) -> tuple[list[Charge], list[Refund], list[Quarantined]]:
    charges = [item for item in items if isinstance(item, Charge)]
    refunds = [item for item in items if isinstance(item, Refund)]
    quarantined = [item for item in items if isinstance(item, Quarantined)]
    assert len(charges) + len(refunds) + len(quarantined) == len(items)
    return charges, refunds, quarantined
