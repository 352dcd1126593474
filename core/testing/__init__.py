"""Conformance suites for plugin authors, in the manner of ``singer_sdk.testing``.

Implement a harness for your plugin and subclass the matching suite::

    import pytest
    from core.testing import DestinationConformance, DestinationHarness

    class TestMyLedger(DestinationConformance):
        @pytest.fixture
        def harness(self, tmp_path):
            return MyLedgerHarness(tmp_path)   # a DestinationHarness

The checks are plain functions too (``check_created_once``, ...), raising
:class:`ConformanceFailure`. The pytest classes live in :mod:`core.testing.suites` and are
loaded on first use, so importing the harnesses does not need pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.testing.destination import (
    DestinationHarness,
    check_api_calls_counted,
    check_created_once,
    check_deletion,
    check_recovery_after_lost_response,
    check_settings_validation,
)
from core.testing.destination import check_health as check_destination_health
from core.testing.failures import ConformanceFailure
from core.testing.samples import document_chain
from core.testing.source import (
    SourceHarness,
    check_malformed_quarantined,
    check_pagination_complete,
    check_records_well_typed,
    check_refetch_upserts,
    check_stable_ids,
    fetch_all,
)
from core.testing.source import check_health as check_source_health
from core.testing.store import ConformanceStore

if TYPE_CHECKING:
    from core.testing.suites import DestinationConformance, SourceConformance

__all__ = [
    "ConformanceFailure",
    "ConformanceStore",
    "DestinationConformance",
    "DestinationHarness",
    "SourceConformance",
    "SourceHarness",
    "check_api_calls_counted",
    "check_created_once",
    "check_deletion",
    "check_destination_health",
    "check_malformed_quarantined",
    "check_pagination_complete",
    "check_records_well_typed",
    "check_recovery_after_lost_response",
    "check_refetch_upserts",
    "check_settings_validation",
    "check_source_health",
    "check_stable_ids",
    "document_chain",
    "fetch_all",
]


def __getattr__(name: str) -> Any:
    if name in ("DestinationConformance", "SourceConformance"):
        from core.testing import suites

        return getattr(suites, name)
    raise AttributeError(f"module 'core.testing' has no attribute {name!r}")
