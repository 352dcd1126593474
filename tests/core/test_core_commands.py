"""The host's own commands: --db, connections, db upgrade, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from core.cli.main import build_cli
from core.store.database import Database


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args), env=env)
    return result.exit_code, result.output


def test_db_upgrade_creates_the_schema_at_the_given_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    code, output = _run("--db", url, "db", "upgrade")
    assert code == 0, output
    database = Database(url)
    assert f"Store at revision {database.head_revision()}" in output
    assert database.current_revision() == database.head_revision()
    assert "connections" in inspect(database.engine).get_table_names()


def test_ledgersync_db_environment_variable_selects_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    code, output = _run("db", "upgrade", env={"LEDGERSYNC_DB": url})
    assert code == 0, output
    assert (tmp_path / "env.sqlite").exists()
    code, output = _run("connections", "--json", env={"LEDGERSYNC_DB": url})
    assert code == 0, output
    assert json.loads(output) == []


def test_unknown_connection_is_one_clear_line_not_a_traceback(db_url: str) -> None:
    code, output = _run("--db", db_url, "status", "nosuch")
    assert code != 0
    assert "no connection named 'nosuch'" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("flag", ["--version"])
def test_version(flag: str) -> None:
    code, output = _run(flag)
    assert code == 0 and output.startswith("ledgersync, version ")
