"""`ledgersync serve`: the operator's password, and one clear line instead of a traceback."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from support.processes import started_with_sigint_ignored

from core.cli.main import build_cli
from core.host import Host
from core.plugins import get_plugins
from core.web.operator import load_operator
from web.browser import LEDGERSYNC, served


def _cli(db_url: str, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), ["--db", db_url, *args], input=input)
    return result.exit_code, result.output


def test_set_password_asks_twice_hidden_and_keeps_only_a_hash(db_url: str, secret_key: str) -> None:
    code, output = _cli(
        db_url,
        "serve",
        "--set-password",
        "--user",
        "books",
        input="a fine passphrase\na fine passphrase\n",
    )
    assert code == 0, output
    assert "Password set for books." in output
    assert "a fine passphrase" not in output
    host = Host(db_url, plugins=get_plugins())
    try:
        operator = load_operator(host.key_file)
    finally:
        host.close()
    assert operator is not None and operator.check("books", "a fine passphrase")


def test_a_short_password_is_refused_in_one_line(db_url: str, secret_key: str) -> None:
    code, output = _cli(db_url, "serve", "--set-password", input="short\nshort\n")
    assert code == 1
    assert "Error: the password is shorter than 10 characters." in output
    assert "Traceback" not in output


def test_serve_without_a_password_says_how_to_set_one(db_url: str, secret_key: str) -> None:
    code, output = _cli(db_url, "serve", "--port", "0")
    assert code == 1
    assert output.strip().splitlines() == [
        "Error: no operator password is set, so nobody could log in. Set one with "
        "`ledgersync serve --set-password` or LEDGERSYNC_WEB_PASSWORD."
    ]


def test_serve_answers_on_loopback_with_the_login(
    db_url: str, secret_key: str, tmp_path: Path
) -> None:
    with served(db_url, {"LEDGERSYNC_WEB_PASSWORD": "a fine passphrase"}) as base:
        assert base.startswith("http://127.0.0.1:")
        answer = requests.get(f"{base}/connections", timeout=10, allow_redirects=False)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
        login = requests.get(f"{base}/login", timeout=10)
        assert login.status_code == 200 and "Log in" in login.text
        assert login.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_ctrl_c_or_sigterm_even_started_with_sigint_ignored(
    db_url: str, secret_key: str, stop: signal.Signals
) -> None:
    """A server started from a script with ``&`` inherits SIGINT ignored; service managers send
    SIGTERM. Either way the server closes and exits 0, not killed mid-answer."""
    with started_with_sigint_ignored(
        [str(LEDGERSYNC), "--db", db_url, "serve", "--port", "0"],
        env=os.environ | {"LEDGERSYNC_WEB_PASSWORD": "a fine passphrase", "PYTHONUNBUFFERED": "1"},
    ) as process:
        assert process.stdout is not None
        assert "(Ctrl-C stops it)" in process.stdout.readline()
        process.send_signal(stop)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
