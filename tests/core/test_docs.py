"""docs/plugin_hooks.md stays true: every hook has a heading with its exact signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin_hooks.md"


def _hooks() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, "ledgersync_spec")
    )


def _documented_signature(name: str) -> str:
    text = DOC.read_text()
    match = re.search(rf"^## {name}\n+```python\n(.+?)\n```", text, flags=re.M | re.S)
    assert match, f"hook {name} has no '## {name}' heading followed by its signature"
    return match.group(1).strip()


def test_there_are_hooks_to_document() -> None:
    assert "register_sources" in _hooks()
    assert len(_hooks()) >= 9


@pytest.mark.parametrize("name", _hooks())
def test_plugin_hook_is_documented(name: str) -> None:
    function = getattr(hookspecs, name)
    signature = inspect.signature(function, eval_str=False)
    expected = f"{name}{signature}".replace("'", "")
    assert _documented_signature(name) == expected


def test_no_heading_for_a_hook_that_does_not_exist() -> None:
    headings = re.findall(r"^## (\w+)$", DOC.read_text(), flags=re.M)
    assert sorted(headings) == _hooks()
