"""The file journal passes the destination conformance suite, in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.testing import DestinationConformance
from plugins.file_journal.testing.harness import JournalHarness


class TestBeancountJournalConformance(DestinationConformance):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> JournalHarness:
        return JournalHarness(tmp_path, "beancount")


class TestCsvJournalConformance(DestinationConformance):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> JournalHarness:
        return JournalHarness(tmp_path, "csv")
