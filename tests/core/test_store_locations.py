"""Stores and keys that cannot be swapped by accident: commands that read or run never create
a store or a secret key, they name where they looked; ``status`` names the store and key in
use; the default store follows the platform's data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from support.databases import add_connection, require_postgres, throwaway_postgres

from core.cli.main import build_cli
from core.errors import SecretKeyError, StoreMissing
from core.host import Host
from core.secrets import SecretBox
from core.store.database import Database, open_database

READ_AND_RUN = [
    ["status"],
    ["status", "shop"],
    ["sync", "shop"],
    ["run-due"],
    ["scheduler", "--interval", "1"],
    ["worker"],
    ["connections"],
    ["history", "shop"],
    ["ledger", "shop"],
    ["why", "shop", "ch_1"],
    ["enable", "shop"],
    ["settings", "shop"],
]


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", READ_AND_RUN, ids=" ".join)
def test_a_command_that_reads_or_runs_never_creates_a_store(
    command: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "typo.sqlite"
    code, output = _run("--db", f"sqlite:///{path}", *command)
    assert code != 0
    assert f"no ledgersync store at {path}." in output
    assert "ledgersync db upgrade" in output  # the hint names a command that exists
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1
    assert not path.exists() and not list(tmp_path.iterdir())


def test_the_default_store_is_not_created_by_status_either() -> None:
    code, output = _run("status")
    expected = Path(os.environ["XDG_DATA_HOME"]) / "ledgersync" / "ledgersync.sqlite"
    assert code != 0 and f"no ledgersync store at {expected}." in output
    assert not expected.exists()


def test_the_default_store_follows_the_platforms_data_directory() -> None:
    code, output = _run("db", "upgrade")
    assert code == 0, output
    data = Path(os.environ["XDG_DATA_HOME"]) / "ledgersync"
    assert (data / "ledgersync.sqlite").is_file()
    code, output = _run("status")
    assert code == 0, output
    assert f"store: {data / 'ledgersync.sqlite'}" in output
    assert f"secret key: {data / 'ledgersync.key'} (missing)" in output


def test_a_store_an_older_release_kept_in_the_config_folder_is_still_used() -> None:
    legacy = Path(os.environ["XDG_CONFIG_HOME"]) / "ledgersync" / "ledgersync.sqlite"
    legacy.parent.mkdir(parents=True)
    code, output = _run("--db", f"sqlite:///{legacy}", "db", "upgrade")
    assert code == 0, output
    code, output = _run("status")
    assert code == 0, output
    assert f"store: {legacy}" in output
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "ledgersync").exists()


def test_an_empty_postgresql_database_is_not_taken_for_a_store() -> None:
    require_postgres()
    with throwaway_postgres() as url:
        with pytest.raises(StoreMissing, match="holds no ledgersync store"):
            Host(url, create=False)
        Host(url).close()  # a creating command makes the schema
        Host(url, create=False).close()


def test_status_names_the_store_and_the_key_in_use(db_url: str, secret_key: str) -> None:
    add_connection(open_database(db_url), "shop", timezone="Asia/Singapore")
    code, output = _run("--db", db_url, "status")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == f"store: {db_url.removeprefix('sqlite:///')}"
    assert lines[1] == "secret key: LEDGERSYNC_SECRET_KEY (environment)"
    assert secret_key not in output
    code, output = _run("--db", db_url, "status", "shop", "--json")
    data = json.loads(output)
    assert data["store"] == db_url.removeprefix("sqlite:///")
    assert data["secret_key"] == "LEDGERSYNC_SECRET_KEY (environment)"


def test_a_host_that_reads_never_creates_a_key_file(db_url: str) -> None:
    open_database(db_url).dispose()
    host = Host(db_url, create=False)
    try:
        with pytest.raises(SecretKeyError) as raised:
            _ = host.box
        assert f"no key file at {host.key_file}" in str(raised.value)
        assert "LEDGERSYNC_SECRET_KEY" in str(raised.value)
        assert not host.key_file.exists()
    finally:
        host.close()


def test_run_due_with_a_lost_key_file_names_it_and_makes_no_new_one(db_url: str) -> None:
    writer = Host(db_url)
    connection_id = add_connection(writer.database, "shop", enabled=True)
    writer.vault(connection_id).set("api_key", "sk_test_1")
    writer.key_file.unlink()
    writer.close()
    reader = Host(db_url, create=False)
    try:
        with pytest.raises(SecretKeyError, match="no key file at"):
            reader.vault(connection_id).get("api_key")
        assert not reader.key_file.exists()
    finally:
        reader.close()


def test_a_key_that_does_not_decrypt_names_where_it_came_from(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Host(db_url)
    connection_id = add_connection(writer.database, "shop")
    writer.vault(connection_id).set("api_key", "sk_test_1")
    writer.key_file.write_bytes(Fernet.generate_key() + b"\n")  # the file was replaced
    writer.close()
    reader = Host(db_url, create=False)
    with pytest.raises(SecretKeyError) as raised:
        reader.vault(connection_id).get("api_key")
    assert f"with the key file {reader.key_file}." in str(raised.value)
    assert "`ledgersync status`" in str(raised.value)
    reader.close()
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", Fernet.generate_key().decode())
    reader = Host(db_url, create=False)
    with pytest.raises(SecretKeyError, match=r"with LEDGERSYNC_SECRET_KEY\."):
        reader.vault(connection_id).get("api_key")
    reader.close()


def test_a_malformed_key_names_its_origin_and_a_way_to_make_one(tmp_path: Path) -> None:
    key_file = tmp_path / "ledgersync.key"
    key_file.write_text("not a key\n")
    with pytest.raises(SecretKeyError) as raised:
        SecretBox.from_environment(key_file, create=False)
    assert f"the key file {key_file} is not a valid Fernet key" in str(raised.value)
    assert "Fernet.generate_key()" in str(raised.value)
    assert "ledgersync secret-key" not in str(raised.value)  # no such command


def test_a_creating_command_still_makes_the_store_and_key(db_url: str) -> None:
    host = Host(db_url)
    try:
        connection_id = add_connection(host.database, "shop")
        host.vault(connection_id).set("api_key", "sk_test_1")
        assert host.key_file.is_file()
    finally:
        host.close()
    assert isinstance(Database(db_url).current_revision(), str)
