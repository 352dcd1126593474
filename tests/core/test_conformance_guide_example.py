"""docs/writing-a-plugin.md stays true: its plugin, copied out of the page, passes the suite."""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from core.cli.main import build_cli
from core.documents import DocumentKind
from core.plugins import get_plugins

pytest_plugins = ["pytester"]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md"
BLOCK = re.compile(r"```(?:python|toml)\n# file: (\S+)\n(.*?)```", re.DOTALL)


def guide_files() -> dict[str, str]:
    return {name: body for name, body in BLOCK.findall(GUIDE.read_text())}


@pytest.fixture
def shoebox(tmp_path: Path) -> Iterator[ModuleType]:
    for name, body in guide_files().items():
        (tmp_path / name).write_text(body)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("ledgersync_shoebox")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("ledgersync_shoebox", None)


def test_the_guide_has_the_three_files_of_its_folder() -> None:
    assert set(guide_files()) == {"pyproject.toml", "ledgersync_shoebox.py", "test_shoebox.py"}


def test_the_entry_point_names_the_module_in_group_ledgersync() -> None:
    project = tomllib.loads(guide_files()["pyproject.toml"])["project"]
    assert project["entry-points"]["ledgersync"] == {"shoebox": "ledgersync_shoebox"}


def test_the_guide_plugin_is_listed_with_its_hooks_and_command(shoebox: ModuleType) -> None:
    plugins = get_plugins()
    plugins.register(shoebox, name="shoebox")
    try:
        rows = {row["name"]: row for row in plugins.describe()}
        assert rows["shoebox"]["version"] == "0.1.0"
        assert rows["shoebox"]["hooks"] == ["register_commands", "register_destinations"]
        assert plugins.destination("shoebox") is shoebox.Shoebox
        result = CliRunner().invoke(build_cli(), ["shoebox", "attach", "--help"])
        assert result.exit_code == 0, result.output
        assert "Send connection NAME's documents to FOLDER." in result.output
    finally:
        plugins.unregister("shoebox")


def test_the_guide_conformance_run_passes(pytester: pytest.Pytester) -> None:
    for name, body in guide_files().items():
        (pytester.path / name).write_text(body)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "test_shoebox.py")
    result.assert_outcomes(passed=4 + 2 * len(DocumentKind))  # each kind twice, + 4
