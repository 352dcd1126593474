"""`ledgersync journal attach` and `ledgersync journal check`, through the real CLI and store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from core import hookimpl
from core.cli.main import build_cli
from core.connections.setup import connect_source, load_connection
from core.contracts import DeliveryContext, Health, PluginContext
from core.hookspecs import Register
from core.host import Host
from core.plugins import get_plugins
from core.testing import document_chain
from plugins.file_journal import FileJournal


class QuietSource:
    """A source with nothing to fetch: the connection's source side, nothing more."""

    name: ClassVar[str] = "quiet_source"
    display_name: ClassVar[str] = "Quiet"
    channels: ClassVar[Mapping[str, str]] = {}

    def __init__(self, context: PluginContext) -> None:
        self.context = context

    def account_id(self) -> str:
        return "business-1"

    def fetch(self, window: Any, state: Any) -> Iterator[Any]:
        return iter(())

    def health(self) -> Health:
        return Health(ok=True)


class QuietPlugin:
    @hookimpl
    def register_sources(self, register: Register) -> None:
        register(QuietSource)


@pytest.fixture
def shop(db_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("LEDGERSYNC_DB", db_url)
    plugins = get_plugins()
    plugins.register(QuietPlugin(), name="quiet_source")
    host = Host(db_url, plugins=plugins)
    connect_source(
        host, "shop", source="quiet_source", source_account="business-1", config={}, secrets={}
    )
    yield host
    host.close()
    plugins.unregister("quiet_source")


def test_attach_points_the_connection_at_the_journal(shop: Host, tmp_path: Path) -> None:
    path = tmp_path / "books.beancount"
    result = CliRunner().invoke(build_cli(), ["journal", "attach", "shop", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert f"shop now writes a beancount journal to {path}." in result.output
    connection = load_connection(shop, "shop")
    assert connection.destination == "file_journal"
    destination, _calls = shop.open_destination("shop")
    assert isinstance(destination, FileJournal)
    assert destination.organization_id() == str(path)


def test_attach_refuses_a_folder_that_does_not_exist(shop: Host, tmp_path: Path) -> None:
    path = tmp_path / "missing" / "books.csv"
    result = CliRunner().invoke(build_cli(), ["journal", "attach", "shop", "--path", str(path)])
    assert result.exit_code == 1
    assert f"the folder {path.parent} does not exist" in result.output
    assert load_connection(shop, "shop").destination is None


def test_check_counts_entries_and_repairs_a_torn_end(shop: Host, tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    runner = CliRunner()
    assert (
        runner.invoke(build_cli(), ["journal", "attach", "shop", "--path", str(path)]).exit_code
        == 0
    )
    destination, _calls = shop.open_destination("shop")
    remote_ids: dict[str, str] = {}
    for document in document_chain():
        context = DeliveryContext(load_connection(shop, "shop").settings, remote_ids)
        remote_ids[document.key] = destination.deliver(document, context)
    with path.open("ab") as handle:
        handle.write(b"2026-01-16,conformance:charge:9:invoice,invoice,Assets:Acc")  # a crash
    result = runner.invoke(build_cli(), ["journal", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "Repaired a torn last entry" in result.output
    entries = len(document_chain())
    assert f"{path}: {entries} entries." in result.output
    assert runner.invoke(build_cli(), ["journal", "check", str(path)]).output == (
        f"{path}: {entries} entries.\n"
    )
