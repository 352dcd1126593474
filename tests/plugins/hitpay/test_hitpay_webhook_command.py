"""`ledgersync hitpay webhook NAME --salt`: the salt stored encrypted, the URL to register."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.cli.main import build_cli
from core.connections.setup import connect_source
from core.host import Host
from plugins.hitpay_source.webhooks import SALT

SECRET_SALT = "salt-e1d2c3b4a5968778"


def _webhook(
    db_url: str, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    command = ["--db", db_url, "hitpay", "webhook", *args]
    return CliRunner().invoke(build_cli(), command, env=env, input=input)


def _shop(db_url: str, source: str = "hitpay") -> None:
    host = Host(db_url)
    try:
        connect_source(
            host,
            "shop",
            source=source,
            source_account="key-sha256:shop",
            config={"api_url": "http://127.0.0.1:9"},
            secrets={"api_key": "k"},
            timezone="Asia/Singapore",
        )
    finally:
        host.close()


def _salt(db_url: str) -> str | None:
    host = Host(db_url)
    try:
        with host.database.session() as session:
            from core.store.repository import get_connection

            connection_id = get_connection(session, "shop").id
        return host.vault(connection_id).get(SALT)
    finally:
        host.close()


@pytest.mark.vendor_fact("hitpay.webhook.salt_not_in_api")
def test_the_salt_from_the_hidden_prompt_is_stored_encrypted_and_the_url_printed(
    db_url: str, secret_key: str
) -> None:
    _shop(db_url)

    result = _webhook(
        db_url, "shop", "--public-url", "https://books.example.com/", input=SECRET_SALT + "\n"
    )

    assert result.exit_code == 0, result.output
    assert "https://books.example.com/webhooks/hitpay/shop" in result.output
    assert SECRET_SALT not in result.output
    assert _salt(db_url) == SECRET_SALT
    assert SECRET_SALT.encode() not in Path(db_url.removeprefix("sqlite:///")).read_bytes()


def test_the_salt_from_the_environment_and_a_warning_for_plain_http(
    db_url: str, secret_key: str
) -> None:
    _shop(db_url)

    result = _webhook(db_url, "shop", env={"HITPAY_WEBHOOK_SALT": SECRET_SALT})

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/webhooks/hitpay/shop" in result.output
    assert "only https" in result.output
    assert _salt(db_url) == SECRET_SALT


def test_an_unknown_connection_or_an_empty_salt_is_one_clear_line(
    db_url: str, secret_key: str
) -> None:
    unknown = _webhook(db_url, "nobody", env={"HITPAY_WEBHOOK_SALT": SECRET_SALT})
    _shop(db_url)
    empty = _webhook(db_url, "shop", env={"HITPAY_WEBHOOK_SALT": "  "})
    bad_url = _webhook(db_url, "shop", "--public-url", "books", env={"HITPAY_WEBHOOK_SALT": "s"})

    for result, words in (
        (unknown, "no connection named 'nobody'"),
        (empty, "the webhook salt is empty"),
        (bad_url, "is not the address of `ledgersync serve`"),
    ):
        assert result.exit_code != 0
        assert words in result.output
        assert "Traceback" not in result.output
    assert _salt(db_url) is None
