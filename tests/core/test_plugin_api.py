"""One front door: plugins and notifiers import the host only through `core.api`.

A plugin's ``testing`` package may also import `core.testing` (the conformance kit). The host's
own plugins come from a tuple, so no allow-list can switch the mappers off, and each register
hook has its own register type.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import core
import core.api
from core import hookspecs
from core.plugins import BUILT_IN_PLUGINS, Plugins

ROOT = Path(core.__file__).parent.parent
PLUGIN_TREES = ("plugins", "notifications")
API = "core.api"
TESTING_ALSO = ("core.testing",)


def _is_allowed(module: str, in_testing: bool) -> bool:
    if module == API:
        return True
    return in_testing and any(module == m or module.startswith(m + ".") for m in TESTING_ALSO)


def reach_ins(tree: ast.AST, in_testing: bool) -> list[str]:
    """Each import of the host other than through its plugin API: ``line: module``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "core":  # `from core import clock` reaches core.clock
                modules = [f"core.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if (module == "core" or module.startswith("core.")) and not _is_allowed(
                module, in_testing
            ):
                found.append(f"{node.lineno}: {module}")
    return found


def plugin_files() -> list[Path]:
    return sorted(path for tree in PLUGIN_TREES for path in (ROOT / tree).rglob("*.py"))


def test_plugins_and_notifiers_import_the_host_only_through_core_api() -> None:
    files = plugin_files()
    assert any(path.name == "writer.py" for path in files)  # the walk sees the plugins
    found = [
        f"{path.relative_to(ROOT)}:{reach_in}"
        for path in files
        for reach_in in reach_ins(ast.parse(path.read_text("utf-8")), "testing" in path.parts)
    ]
    assert not found, "import these from core.api (or add them there):\n" + "\n".join(found)


def test_the_check_would_see_a_reach_in() -> None:
    code = (
        "from core.store.repository import get_connection\n"
        "import core.cli.main\n"
        "from core import clock\n"
        "from core.api import Host\n"
        "from core.testing import SourceHarness\n"
    )
    tree = ast.parse(code)
    assert reach_ins(tree, in_testing=False) == [
        "1: core.store.repository",
        "2: core.cli.main",
        "3: core.clock",
        "5: core.testing",
    ]
    assert reach_ins(tree, in_testing=True) == reach_ins(tree, False)[:3]


def test_every_name_the_api_promises_is_there() -> None:
    missing = [name for name in core.api.__all__ if not hasattr(core.api, name)]
    assert not missing
    assert len(set(core.api.__all__)) == len(core.api.__all__)


def test_each_register_hook_has_its_own_register_type() -> None:
    hooks = [name for name in dir(hookspecs) if name.startswith("register_")]
    annotations = {
        name: inspect.signature(getattr(hookspecs, name)).parameters[param].annotation
        for name in hooks
        for param in inspect.signature(getattr(hookspecs, name)).parameters
    }
    assert len(annotations) == len(hooks) >= 6
    assert len(set(annotations.values())) == len(hooks), annotations
    for annotation in annotations.values():
        assert annotation == "click.Group" or hasattr(core.api, annotation)


@pytest.mark.parametrize(
    "variable, value",
    [("LEDGERSYNC_LOAD_PLUGINS", "log"), ("LEDGERSYNC_DISABLE_PLUGINS", "mapping")],
)
def test_no_plugin_list_switches_the_built_in_mappers_off(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.delenv("LEDGERSYNC_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv(variable, value)
    plugins = Plugins()
    assert plugins.mapper("bulk").name == "bulk"
    assert plugins.mapper("individual").name == "individual"
    assert {name for name, _ in BUILT_IN_PLUGINS} <= {row["name"] for row in plugins.describe()}


def test_built_ins_are_registered_without_entry_points() -> None:
    plugins = Plugins(load_entry_points=False)
    assert [row["name"] for row in plugins.describe()] == [name for name, _ in BUILT_IN_PLUGINS]
    assert plugins.mapper("bulk").name == "bulk"
