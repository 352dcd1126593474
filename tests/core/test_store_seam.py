"""The store owns the SQL: the rest of core speaks to it in domain terms.

No module of core outside ``core/store`` (and the conformance kit, ``core/testing``, which
builds a real store for plugins under test) may import SQLAlchemy or the store's models at run
time; imports under ``if TYPE_CHECKING:`` name types only and do not count. Every such module
is clean now. ``STILL_REACHING`` is where a module that cannot be moved at once would be listed;
the list may only shrink: the test fails on a new reach-in, and on a listed module that no
longer needs to be there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
PIPELINE = ("sync", "mapping")
OUTSIDE_THE_STORE = ("store", "testing")  # the folders the rule does not apply to
BANNED = ("sqlalchemy", "core.store.models")

# Not moved behind the store yet (issue 15 item 2). Remove a module once it is clean.
STILL_REACHING: frozenset[str] = frozenset()


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def store_reach_ins(tree: ast.AST) -> list[str]:
    """The banned modules imported at run time."""
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found += [n for n in names if any(n == b or n.startswith(b + ".") for b in BANNED)]
    return found


def _outside_the_store(path: Path) -> bool:
    parts = path.relative_to(CORE).parts
    return parts[0] not in OUTSIDE_THE_STORE and "migrations" not in parts


def reaching_modules() -> set[str]:
    files = [path for path in sorted(CORE.rglob("*.py")) if _outside_the_store(path)]
    assert any(path.name == "planning.py" for path in files)
    assert any(path.name == "status.py" for path in files)
    return {
        str(path.relative_to(CORE.parent))
        for path in files
        if store_reach_ins(ast.parse(path.read_text("utf-8")))
    }


def test_no_new_pipeline_module_reaches_past_the_store() -> None:
    new = reaching_modules() - STILL_REACHING
    assert not new, (
        "these pipeline modules import SQLAlchemy or core.store.models; give the store a "
        "domain method instead (core/store/), or for now list it in STILL_REACHING:\n"
        + "\n".join(sorted(new))
    )


def test_the_list_of_modules_still_reaching_only_shrinks() -> None:
    clean = {name for name in STILL_REACHING if (CORE.parent / name).exists()}
    clean -= reaching_modules()
    assert not clean, "no longer reaching past the store; remove from STILL_REACHING: " + str(
        sorted(clean)
    )


def test_the_pipeline_speaks_to_the_store_in_domain_terms() -> None:
    reaching = reaching_modules()
    pipeline = [path for folder in PIPELINE for path in sorted((CORE / folder).rglob("*.py"))]
    assert len(pipeline) > 30
    assert not [p for p in pipeline if str(p.relative_to(CORE.parent)) in reaching]
    assert not [name for name in STILL_REACHING if name.split("/")[1] in PIPELINE]


def test_the_check_would_see_a_reach_in() -> None:
    code = (
        "from typing import TYPE_CHECKING\n"
        "from sqlalchemy import select\n"
        "import sqlalchemy.orm\n"
        "from core.store.models import DocumentRow\n"
        "from core.store.open_records import OpenRecords\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy.orm import Session\n"
    )
    assert store_reach_ins(ast.parse(code)) == [
        "sqlalchemy",
        "sqlalchemy.orm",
        "core.store.models",
    ]
