"""docs/vendor-facts.md stays held by tests: every fact has a test, every tag names a fact.

A fact is a level-3 heading ``### ID: statement`` in the facts part of the file (before
"## Mismatches found"). A test ties itself to facts with ``@pytest.mark.vendor_fact("ID", ...)``
(on the function, its class or the module's ``pytestmark``). The tags are read from the test
sources without importing them, so this module checks the whole tree in a fraction of a second,
whichever tests a run selects.

``NOT_YET_TIED`` lists the facts that still wait for a test. It may only shrink: a fact in it that
has a test, or that is not a fact, fails the suite, so the list is pruned as facts get tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "vendor-facts.md"
TESTS = ROOT / "tests"
MARKER = "vendor_fact"
LEVELS = ("CONFIRMED", "ONE SOURCE", "CONFLICTING", "NOT FOUND")
_HEADING = re.compile(r"^### ([a-z0-9_]+(?:\.[a-z0-9_]+)+): \S", flags=re.M)
_END_OF_FACTS = "\n## Mismatches found"

# Facts without a test yet. Shrinks to empty; never add to it (add a test instead).
NOT_YET_TIED: frozenset[str] = frozenset()


def facts() -> dict[str, str]:
    """Each fact's ID and its entry (heading to the next heading), in the file's order."""
    text = DOC.read_text().split(_END_OF_FACTS, 1)[0]
    headings = list(_HEADING.finditer(text))
    entries: dict[str, str] = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        entry = text[heading.start() : end].split("\n#### ", 1)[0]
        assert heading.group(1) not in entries, f"fact {heading.group(1)} is defined twice"
        entries[heading.group(1)] = entry
    return entries


def _marker_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == MARKER
        ):
            yield node


def tags() -> dict[str, set[str]]:
    """Each fact ID named by a ``vendor_fact`` marker in the tests, with where it is named."""
    found: dict[str, set[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for call in _marker_calls(ast.parse(path.read_text(), filename=str(path))):
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            assert call.args and not call.keywords, f"{where}: vendor_fact takes fact IDs only"
            for argument in call.args:
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                    f"{where}: vendor_fact takes literal fact IDs (this test reads them unimported)"
                )
                found.setdefault(argument.value, set()).add(where)
    return found


def test_the_facts_file_defines_the_facts() -> None:
    assert len(facts()) >= 150
    assert "zoho.list_key.customerpayments" in facts()


def test_every_fact_has_a_test() -> None:
    untied = sorted(set(facts()) - set(tags()) - NOT_YET_TIED)
    assert not untied, "facts in docs/vendor-facts.md with no @pytest.mark.vendor_fact test:\n" + (
        "\n".join(untied)
    )


def test_every_tag_names_a_fact() -> None:
    known = set(facts())
    unknown = sorted(
        f"{where}: {fact}"
        for fact, places in tags().items()
        if fact not in known
        for where in places
    )
    assert not unknown, "vendor_fact tags naming no fact in docs/vendor-facts.md:\n" + "\n".join(
        unknown
    )


def test_the_not_yet_tied_list_only_shrinks() -> None:
    stale = sorted(NOT_YET_TIED & set(tags()))
    assert not stale, "these facts have tests now; remove them from NOT_YET_TIED:\n" + "\n".join(
        stale
    )
    gone = sorted(NOT_YET_TIED - set(facts()))
    assert not gone, "NOT_YET_TIED names facts that are not in the file:\n" + "\n".join(gone)


@pytest.mark.parametrize("fact", list(facts()))
def test_every_fact_has_its_confidence_sources_and_variants(fact: str) -> None:
    entry = facts()[fact]
    level = re.search(r"^- Confidence: (.+)$", entry, flags=re.M)
    assert level, f"{fact}: no '- Confidence:' line"
    assert level.group(1).startswith(LEVELS), f"{fact}: confidence must start with one of {LEVELS}"
    assert re.search(r"^- Sources:", entry, flags=re.M), f"{fact}: no '- Sources:' line"
    if not level.group(1).startswith("CONFIRMED"):
        assert "Variants to test:" in entry, (
            f"{fact}: a fact that is not CONFIRMED needs a 'Variants to test:' line"
        )


def test_a_marker_tag_is_read_from_every_place_pytest_accepts() -> None:
    source = (
        "import pytest\n"
        "pytestmark = pytest.mark.vendor_fact('a.b')\n"
        "@pytest.mark.vendor_fact('c.d', 'e.f')\n"
        "class TestX:\n"
        "    @pytest.mark.vendor_fact('g.h')\n"
        "    def test_y(self): ...\n"
    )
    named = [
        argument.value
        for call in _marker_calls(ast.parse(source))
        for argument in call.args
        if isinstance(argument, ast.Constant)
    ]
    assert sorted(named) == ["a.b", "c.d", "e.f", "g.h"]
