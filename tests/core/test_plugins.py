"""The plugin manager: built-ins through entry points, in-process plugins, broken plugins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from core import Manifest, hookimpl
from core.cli.main import build_cli
from core.contracts import Notice
from core.errors import ConfigurationError
from core.hookspecs import Register
from core.plugins import Plugins, PluginWarning, get_plugins


class ShoutNotifier:
    name: ClassVar[str] = "shout"
    sent: ClassVar[list[Notice]] = []

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)


class ShoutPlugin:
    MANIFEST = Manifest(name="shout", version="9.9", summary="Shouts notices.")

    @hookimpl
    def register_notifiers(self, register: Register) -> None:
        register(ShoutNotifier)


def _plugins_json() -> list[dict[str, object]]:
    result = CliRunner().invoke(build_cli(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_built_in_plugins_are_listed_with_their_hooks() -> None:
    rows = {row["name"]: row for row in _plugins_json()}
    assert {"mapping", "hitpay", "zoho_books", "log"} <= set(rows)
    assert "register_mappers" in rows["mapping"]["hooks"]  # type: ignore[operator]
    assert "register_notifiers" in rows["log"]["hooks"]  # type: ignore[operator]
    assert rows["mapping"]["version"] == "0.1.0"


def test_in_process_plugin_is_listed_and_its_notifier_is_found() -> None:
    plugins = get_plugins()
    plugins.register(ShoutPlugin(), name="shout")
    try:
        rows = {row["name"]: row for row in _plugins_json()}
        assert rows["shout"]["version"] == "9.9"
        assert rows["shout"]["hooks"] == ["register_notifiers"]
        assert ShoutNotifier in plugins.notifiers()
    finally:
        plugins.unregister("shout")
    assert ShoutNotifier not in plugins.notifiers()


def test_disable_list_switches_a_built_in_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERSYNC_DISABLE_PLUGINS", "log")
    names = {row["name"] for row in Plugins().describe()}
    assert "log" not in names
    assert "mapping" in names


def test_allow_list_loads_only_what_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERSYNC_LOAD_PLUGINS", "mapping")
    assert [row["name"] for row in Plugins().describe()] == ["mapping"]


def test_unknown_plugin_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="no mapper plugin named 'weekly'"):
        Plugins().mapper("weekly")


def _install_fake_distribution(root: Path, entry_point: str) -> None:
    info = root / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ledgersync]\nbroken = {entry_point}\n")


def test_broken_third_party_plugin_warns_and_the_host_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_fake_distribution(tmp_path, "no_such_module_for_ledgersync")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LEDGERSYNC_LOAD_PLUGINS", "mapping,broken")
    with pytest.warns(PluginWarning, match="'broken'"):
        plugins = Plugins()
    assert "bulk" in plugins.catalog.mappers
    rows = {row["name"]: row for row in plugins.describe()}
    assert "No module named" in str(rows["broken"]["error"])
