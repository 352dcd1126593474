"""`ledgersync hitpay connect` through click's CliRunner, against the stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.cli.main import build_cli
from core.connections.setup import load_connection
from core.host import Host
from plugins.hitpay_source.source import key_fingerprint
from plugins.hitpay_source.testing.standin import HitPayStandIn


def _connect(db_url: str, *args: str, input: str | None = None) -> Result:
    command = ["--db", db_url, "hitpay", "connect", *args]
    return CliRunner().invoke(build_cli(), command, input=input)


def _sqlite_bytes(db_url: str) -> bytes:
    return Path(db_url.removeprefix("sqlite:///")).read_bytes()


def test_connect_verifies_the_key_and_stores_it_encrypted(
    standin: HitPayStandIn, db_url: str, secret_key: str
) -> None:
    result = _connect(
        db_url,
        "shop",
        "--api-url",
        standin.url,
        "--api-key",
        standin.api_key,
        "--timezone",
        "Asia/Singapore",
    )

    assert result.exit_code == 0, result.output
    assert "Connected shop to HitPay" in result.output and "Asia/Singapore" in result.output
    assert standin.api_key not in result.output
    assert [(r.path, r.status) for r in standin.requests] == [("/v1/charges", 200)]
    host = Host(db_url)
    try:
        connection = load_connection(host, "shop")
        assert (connection.source, connection.timezone.key) == ("hitpay", "Asia/Singapore")
        source, _ = host.open_source("shop")
        assert source.account_id() == key_fingerprint(standin.api_key)
        assert source.health().ok
    finally:
        host.close()
    assert standin.api_key.encode() not in _sqlite_bytes(db_url)


def test_a_wrong_key_is_refused_in_one_clear_line(
    standin: HitPayStandIn, db_url: str, secret_key: str
) -> None:
    wrong = "a" * 64
    result = _connect(db_url, "shop", "--api-url", standin.url, "--api-key", wrong)

    assert result.exit_code == 1
    assert (
        "HitPay rejected the API key (401): check the key and whether it is a sandbox or live key"
        in result.output
    )
    assert "Traceback" not in result.output and wrong not in result.output
    runner = CliRunner().invoke(build_cli(), ["--db", db_url, "connections"])
    assert "shop" not in runner.output


def test_the_key_can_come_from_the_environment(
    standin: HitPayStandIn, db_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITPAY_API_KEY", standin.api_key)
    result = _connect(db_url, "shop", "--api-url", standin.url)
    assert result.exit_code == 0, result.output
    assert standin.api_key not in result.output


def test_the_key_can_be_typed_at_a_hidden_prompt(
    standin: HitPayStandIn, db_url: str, secret_key: str
) -> None:
    result = _connect(db_url, "shop", "--api-url", standin.url, input=standin.api_key + "\n")
    assert result.exit_code == 0, result.output
    assert "HitPay API key" in result.output and standin.api_key not in result.output


def test_one_business_connects_once(standin: HitPayStandIn, db_url: str, secret_key: str) -> None:
    key = ["--api-url", standin.url, "--api-key", standin.api_key]
    assert _connect(db_url, "shop", *key).exit_code == 0
    assert _connect(db_url, "shop", *key, "--timezone", "Asia/Tokyo").exit_code == 0  # update
    again = _connect(db_url, "other", *key)
    assert again.exit_code == 1 and "already connected as 'shop'" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sandbox", "--api-url", "https://example.com"], "not both"),
        (["--api-url", "http://api.example.com"], "is not https"),
        (["--api-url", "ftp://example.com"], "is not an http(s) URL"),
        (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_options_fail_before_any_request(
    standin: HitPayStandIn, db_url: str, secret_key: str, args: list[str], message: str
) -> None:
    if "--api-url" not in args and "--sandbox" not in args:
        args = [*args, "--api-url", standin.url]
    result = _connect(db_url, "shop", *args, "--api-key", standin.api_key)
    assert result.exit_code != 0 and message in result.output
    assert standin.requests == [] and standin.api_key not in result.output
