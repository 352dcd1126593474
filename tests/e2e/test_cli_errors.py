"""Every failure an operator can cause exits non-zero with one clear sentence saying what is
wrong and what to do, and never a traceback: through click's runner and a real process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core import clock
from e2e.conftest import Shop, one_line_error

UNKNOWN = (
    "Error: no connection named 'nope' (known: shop). Create it with "
    "`ledgersync <source> connect NAME ...`; `ledgersync connections` lists them."
)


@pytest.mark.parametrize(
    "args",
    [
        ["status", "nope"],
        ["sync", "nope"],
        ["sync", "nope", "--dry-run"],
        ["why", "nope", "some-charge"],
        ["settings", "nope"],
        ["settings", "nope", "--mode", "individual"],
        ["enable", "nope"],
        ["disable", "nope"],
        ["history", "nope"],
        ["ledger", "nope", "--csv"],
        ["disconnect", "nope", "--yes"],
    ],
)
def test_an_unknown_connection_is_one_line_naming_the_known_ones(
    shop: Shop, args: list[str]
) -> None:
    shop.connect()
    result = shop.cli(*args)
    assert result.exit_code == 1
    assert one_line_error(result.output) == UNKNOWN


def test_settings_before_a_destination_is_connected(shop: Shop) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    result = shop.cli("settings", "shop", "--sales-account", "1")
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert "connection 'shop' has no destination yet." in line
    assert "ledgersync <destination> connect shop" in line


def test_enabling_with_missing_settings_names_them_and_the_command(shop: Shop) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    accounts = shop.zoho.connect(shop.host, "shop")
    partial = shop.cli("settings", "shop", "--sales-account", accounts.sales_account)
    assert partial.exit_code == 0, partial.output
    assert "Still to set before sync can be enabled: fee account, refund account" in (
        partial.output
    )

    result = shop.cli("enable", "shop")

    assert result.exit_code == 1
    assert one_line_error(result.output) == (
        "Error: connection 'shop' is missing settings: fee_account, refund_account, "
        "bank_account, item. Set them with `ledgersync settings shop --fee-account ID "
        "--refund-account ID --bank-account ID --item ID`."
    )
    assert not shop.row().enabled


def test_an_account_of_the_wrong_type_is_refused_and_nothing_is_saved(shop: Shop) -> None:
    accounts = shop.connect()
    wrong = shop.cli("settings", "shop", "--fee-account", accounts.sales_account)
    assert wrong.exit_code == 1
    line = one_line_error(wrong.output)
    assert "fee account 'Sales'" in line
    assert "is of type income, but it needs type expense" in line
    assert "ledgersync zoho accounts NAME --type TYPE" in line
    assert shop.row().settings["fee_account"] == accounts.fee_account
    missing = shop.cli("settings", "shop", "--bank-account", "4242")
    assert missing.exit_code == 1
    assert "bank (clearing) account 4242 does not exist" in one_line_error(missing.output)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--channels", "shopify,nope"], "Error: unknown channel 'nope'. Choose among: all, "),
        (["--sync-time", "25:00"], "Error: sync time '25:00' is not HH:MM. Use e.g. "),
        (["--timezone", "Mars/Olympus"], "Error: unknown time zone 'Mars/Olympus'. Use an IANA"),
        (["--notify-email", "ops"], "Error: 'ops' is not an e-mail address. Use e.g. "),
    ],
)
def test_bad_settings_values(shop: Shop, args: list[str], expected: str) -> None:
    shop.connect()
    before = shop.row()
    result = shop.cli("settings", "shop", *args)
    assert result.exit_code == 1
    assert one_line_error(result.output).startswith(expected)
    after = shop.row()
    assert (after.channels, after.sync_time, after.timezone, after.notify_emails) == (
        before.channels,
        before.sync_time,
        before.timezone,
        before.notify_emails,
    )


def test_a_mode_outside_the_choices_is_a_usage_error(shop: Shop) -> None:
    shop.connect()
    result = shop.cli("settings", "shop", "--mode", "weekly")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Error: Invalid value for '--mode': 'weekly' is not one of 'bulk', 'individual'." in (
        result.output
    )


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (
            "yesterday",
            "Error: --since 'yesterday' is not an ISO 8601 date-time. "
            "Use e.g. --since 2026-11-01T00:00+08:00.",
        ),
        (
            "2026-01-01T00:00",
            "Error: --since 2026-01-01T00:00:00 has no time zone. "
            "Add one, e.g. 2026-11-01T00:00+08:00.",
        ),
        (
            "two days from now",
            "Error: --since is in the future. Leave it out to start now.",
        ),
    ],
)
def test_a_bad_since(shop: Shop, since: str, expected: str) -> None:
    if since == "two days from now":
        since = (clock.now() + timedelta(days=2)).isoformat()
    shop.connect()
    result = shop.cli("enable", "shop", "--since", since)
    assert result.exit_code == 1
    assert one_line_error(result.output) == expected
    assert not shop.row().enabled


def test_syncing_while_disabled(shop: Shop) -> None:
    shop.connect()
    for args in (["sync", "shop"], ["sync", "shop", "--force"], ["sync", "shop", "--dry-run"]):
        result = shop.cli(*args)
        assert result.exit_code == 1
        assert one_line_error(result.output) == (
            "Error: sync is disabled for 'shop'. Enable it with `ledgersync enable shop`."
        )


def test_enable_and_disable_say_what_they_did(shop: Shop) -> None:
    shop.connect()
    enabled = shop.cli("enable", "shop")
    assert enabled.exit_code == 0
    assert enabled.output.startswith("Sync enabled for shop: charges created from ")
    assert "back-fill" not in enabled.output
    disabled = shop.cli("disable", "shop")
    assert disabled.exit_code == 0
    assert disabled.output == (
        "Sync disabled for shop. Charges created while disabled will not sync.\n"
    )


def test_in_a_real_process_errors_go_to_stderr_without_a_traceback(
    shop: Shop, tmp_path: Path
) -> None:
    shop.connect()
    unknown = shop.run("sync", "nope")
    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert one_line_error(unknown.stderr) == UNKNOWN
    disabled = shop.run("sync", "shop")
    assert disabled.returncode == 1
    assert "sync is disabled for 'shop'" in one_line_error(disabled.stderr)
    store = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'ledgersync.sqlite'}"
    missing = shop.run("status", db_url=store)
    assert missing.returncode == 1
    line = one_line_error(missing.stderr)
    assert line.startswith(f"Error: no ledgersync store at {store.removeprefix('sqlite:///')}.")
    unopenable = shop.run("db", "upgrade", db_url=store)
    assert unopenable.returncode == 1
    line = one_line_error(unopenable.stderr)
    assert line.startswith(f"Error: cannot open the store at {store}: unable to open database")
    assert "Check --db (or LEDGERSYNC_DB)" in line
