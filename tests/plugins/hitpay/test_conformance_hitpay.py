"""The HitPay source passes the source conformance suite against its stand-in over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.testing import SourceConformance
from plugins.hitpay_source.testing.harness import HitPayHarness
from plugins.hitpay_source.testing.standin import HitPayStandIn


class TestHitPayConformance(SourceConformance):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[HitPayHarness]:
        with HitPayStandIn() as standin:
            harness = HitPayHarness(standin, tmp_path)
            yield harness
            harness.conformance_store.close()
