"""The destination suite can fail: a journal that forgets what it wrote duplicates on retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.contracts import DeliveryContext
from core.documents import Document, DocumentKind
from core.testing import (
    ConformanceFailure,
    check_created_once,
    check_deletion,
    check_recovery_after_lost_response,
    check_settings_validation,
)
from plugins.file_journal import FileJournal
from plugins.file_journal.accounts import JournalAccounts
from plugins.file_journal.entries import entry_for
from plugins.file_journal.formats import Csv
from plugins.file_journal.testing.harness import JournalHarness

pytest_plugins = ["pytester"]


class ForgetfulJournal(FileJournal):
    """Broken on purpose: never looks for what it wrote and appends whatever it is given."""

    def find_existing(self, document: Document, context: DeliveryContext) -> str | None:
        return None

    def deliver(self, document: Document, context: DeliveryContext) -> str:
        self._calls.count()
        entry = entry_for(document, JournalAccounts.from_settings(context.settings))
        path = self.config.path
        with path.open("ab") as handle:
            if handle.tell() == 0:
                handle.write(Csv().header())
            handle.write(Csv().render(entry, []))
        if self.after_write is not None:
            self.after_write(entry)
        return entry.key


class ForgetfulHarness(JournalHarness):
    plugin = ForgetfulJournal

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, "csv")


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_a_retry_after_a_lost_response_that_duplicates_fails_the_recovery_check(
    tmp_path: Path, kind: DocumentKind
) -> None:
    harness = ForgetfulHarness(tmp_path)
    with pytest.raises(ConformanceFailure, match=r"2 copies \(duplicates\)"):
        check_recovery_after_lost_response(harness, kind)
    assert harness.held_keys().count(harness.documents()[0].key) >= 1


def test_a_destination_that_cannot_find_its_documents_fails_the_created_once_check(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConformanceFailure, match="on a new instance gave None"):
        check_created_once(ForgetfulHarness(tmp_path), DocumentKind.INVOICE)


def test_what_the_broken_journal_does_right_still_passes(tmp_path: Path) -> None:
    check_settings_validation(ForgetfulHarness(tmp_path))


SUITE_ON_THE_BROKEN_JOURNAL = """
import pytest

from core.testing import DestinationConformance
from tests.core.test_conformance_catches_a_broken_destination import ForgetfulHarness


class TestForgetfulJournal(DestinationConformance):
    @pytest.fixture
    def harness(self, tmp_path):
        return ForgetfulHarness(tmp_path)
"""


def test_the_pytest_suite_reports_the_broken_journal(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(Path(__file__).resolve().parents[2])
    pytester.makepyfile(test_forgetful=SUITE_ON_THE_BROKEN_JOURNAL)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    # Broken: each kind's "created once" and "recovery" (2 x 7 kinds), and deletion (what it
    # delivers again is not found by key); right: settings, health, calls.
    result.assert_outcomes(passed=3, failed=2 * len(DocumentKind) + 1)
    result.stdout.fnmatch_lines(["*test_deletes_what_it_delivered*"])
    result.stdout.fnmatch_lines(["*recovers_by_key_after_a_lost_response*"])
    assert "2 copies (duplicates)" in result.stdout.str()


class StubbornJournal(FileJournal):
    """Broken on purpose: says it can delete, and deletes nothing."""

    def delete(self, remote_id: str, document: Document, context: DeliveryContext) -> None:
        self._calls.count()


class StubbornHarness(JournalHarness):
    plugin = StubbornJournal

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, "csv")


def test_a_destination_whose_delete_does_nothing_fails_the_deletion_check(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConformanceFailure, match="after the document was deleted"):
        check_deletion(StubbornHarness(tmp_path))


def test_the_real_journal_passes_the_deletion_check(tmp_path: Path) -> None:
    check_deletion(JournalHarness(tmp_path, "csv"))
