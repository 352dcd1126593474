"""Ready pytest classes: subclass one, give it a ``harness`` fixture, get the contract tests.

::

    from core.testing import DestinationConformance

    class TestMyLedgerConformance(DestinationConformance):
        @pytest.fixture
        def harness(self, tmp_path):
            return MyLedgerHarness(tmp_path)

This module imports pytest; nothing in ``core`` outside ``core.testing`` imports it.
"""

from __future__ import annotations

import pytest

from core.documents import DocumentKind
from core.testing import destination as destination_checks
from core.testing import source as source_checks
from core.testing.destination import DestinationHarness
from core.testing.source import SourceHarness

__all__ = ["DestinationConformance", "SourceConformance"]

KINDS = [pytest.param(kind, id=kind.value) for kind in DocumentKind]


class DestinationConformance:
    """The destination contract. Override the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> DestinationHarness:
        raise pytest.UsageError(
            f"{type(self).__name__} must define a `harness` fixture returning a DestinationHarness"
        )

    @pytest.mark.parametrize("kind", KINDS)
    def test_creates_each_kind_once(self, harness: DestinationHarness, kind: DocumentKind) -> None:
        destination_checks.check_created_once(harness, kind)

    @pytest.mark.parametrize("kind", KINDS)
    def test_recovers_by_key_after_a_lost_response(
        self, harness: DestinationHarness, kind: DocumentKind
    ) -> None:
        destination_checks.check_recovery_after_lost_response(harness, kind)

    def test_refuses_a_wrong_account_with_a_clear_error(self, harness: DestinationHarness) -> None:
        destination_checks.check_settings_validation(harness)

    def test_reports_health(self, harness: DestinationHarness) -> None:
        destination_checks.check_health(harness)

    def test_counts_api_calls(self, harness: DestinationHarness) -> None:
        destination_checks.check_api_calls_counted(harness)

    def test_deletes_what_it_delivered(self, harness: DestinationHarness) -> None:
        destination_checks.check_deletion(harness)


class SourceConformance:
    """The source contract. Override the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> SourceHarness:
        raise pytest.UsageError(
            f"{type(self).__name__} must define a `harness` fixture returning a SourceHarness"
        )

    def test_pagination_is_complete(self, harness: SourceHarness) -> None:
        source_checks.check_pagination_complete(harness)

    def test_records_are_well_typed(self, harness: SourceHarness) -> None:
        source_checks.check_records_well_typed(harness)

    def test_ids_are_stable(self, harness: SourceHarness) -> None:
        source_checks.check_stable_ids(harness)

    def test_refetch_upserts(self, harness: SourceHarness) -> None:
        if harness.store() is None:
            pytest.skip("the harness gives no store() for the re-fetch check")
        source_checks.check_refetch_upserts(harness)

    def test_malformed_input_is_quarantined(self, harness: SourceHarness) -> None:
        source_checks.check_malformed_quarantined(harness)

    def test_reports_health(self, harness: SourceHarness) -> None:
        source_checks.check_health(harness)
