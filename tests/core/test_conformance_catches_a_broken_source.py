"""The source suite can fail: a source that stops after one page, one whose ids drift."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from core.contracts import ApiCallCounter, FetchWindow
from core.records import Quarantined, Record
from core.testing import (
    ConformanceFailure,
    check_pagination_complete,
    check_refetch_upserts,
    check_stable_ids,
)
from plugins.hitpay_source.source import HitPaySource
from plugins.hitpay_source.testing.harness import HitPayHarness
from plugins.hitpay_source.testing.standin import HitPayStandIn


class FirstPageOnly(HitPaySource):
    def fetch(
        self, window: FetchWindow, state: MutableMapping[str, Any]
    ) -> Iterator[Record | Quarantined]:
        return itertools.islice(super().fetch(window, state), 5)


class DriftingIds(HitPaySource):
    fetches = itertools.count()

    def fetch(
        self, window: FetchWindow, state: MutableMapping[str, Any]
    ) -> Iterator[Record | Quarantined]:
        run = next(self.fetches)
        for item in super().fetch(window, state):
            if isinstance(item, Quarantined):
                yield item
            else:
                yield dataclasses.replace(item, source_id=f"{item.source_id}-{run}")


def harness_for(plugin: type[HitPaySource], standin: HitPayStandIn, folder: Path) -> HitPayHarness:
    class Broken(HitPayHarness):
        def build(self, calls: ApiCallCounter) -> HitPaySource:
            built = super().build(calls)
            return plugin(built._context)

    return Broken(standin, folder)


@pytest.fixture
def standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn() as server:
        yield server


def test_a_source_that_stops_after_one_page_fails_pagination(
    standin: HitPayStandIn, tmp_path: Path
) -> None:
    with pytest.raises(ConformanceFailure, match="seeded records did not come back"):
        check_pagination_complete(harness_for(FirstPageOnly, standin, tmp_path))


def test_a_source_whose_ids_drift_fails_stable_ids_and_refetch(
    standin: HitPayStandIn, tmp_path: Path
) -> None:
    harness = harness_for(DriftingIds, standin, tmp_path)
    with pytest.raises(ConformanceFailure, match="two fetches of one window disagree"):
        check_stable_ids(harness)
    with pytest.raises(ConformanceFailure, match="took the store from 14 to 28 records"):
        check_refetch_upserts(harness)
