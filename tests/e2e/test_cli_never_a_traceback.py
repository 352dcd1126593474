"""No traceback ever reaches the user: every real command, driven in-process through click's
runner against a real store and both stand-ins, with hypothesis-generated arguments and
environment, ends with its output or one ``Error:`` line. Then each case an operator met in
the trial: a name that is not text, one longer than the store holds, a store driver that is not
installed, a read-only store, a full disk."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError
from support.budget import examples

from core import clock
from core.cli.errors import one_line
from core.cli.main import build_cli
from e2e.conftest import LEDGERSYNC, ZOHO_ENV, Shop, local_midnight, one_line_error, seed_sales

# Commands that run until stopped (or take half a minute): their options are range-checked in
# their own tests (tests/e2e/test_cli_reports_filters.py, tests/web, the demo's tests).
LONG_RUNNING = {"scheduler", "worker", "demo"}
NASTY = st.sampled_from(
    [
        "",
        " ",
        "shop",
        "nope",
        "-5",
        "0",
        "99999999999999999999999",
        "1e309",
        "nan",
        "x" * 300,
        "\x1b[31mred",
        "line\nbreak",
        "caf\u00e9",
        "\u202eevil",
        "ab\udcff",  # bytes that are not UTF-8, as Python hands them over
        "2026-02-30",
        "2026-11-01T00:00+08:00",
        "http://example.com",
        "https://127.0.0.1:1",
        "%(x)s",
        "{0}",
        "'; DROP TABLE connections; --",
    ]
)
TEXT = NASTY | st.text(max_size=40)


def _leaves(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if name in LONG_RUNNING:
            continue
        if isinstance(command, click.Group):
            found.extend(_leaves(command, (*prefix, name)))
        else:
            found.append(((*prefix, name), command))
    return found


COMMANDS = _leaves(build_cli())


def _value(param: click.Parameter) -> st.SearchStrategy[str]:
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.sampled_from([str(c) for c in kind.choices]) | TEXT
    if isinstance(kind, click.types._NumberParamTypeBase):  # IntRange, FloatRange, int, float
        return st.integers(-(10**25), 10**25).map(str) | st.floats().map(str) | TEXT
    if isinstance(kind, click.Path):  # only inside the runner's own folder
        return st.sampled_from(["out.csv", "journal.beancount", "sub/dir", "."])
    return TEXT


@st.composite
def invocations(draw: st.DrawFn, fixed: dict[tuple[str, ...], list[str]]) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    args = list(path)
    for param in command.params:
        if isinstance(param, click.Argument):
            known = draw(st.integers(0, 3)) > 0
            args.append("shop" if known else draw(st.just("nope") | TEXT))
        elif isinstance(param, click.Option) and param.name not in ("help",):
            if param.name in ("sandbox",):  # would reach HitPay's real sandbox
                continue
            if draw(st.integers(0, 3)) > 0:  # most options left out, so that some runs succeed
                continue
            if param.is_flag:
                args.append(param.opts[0])
            elif not any(opt in fixed.get(path, []) for opt in param.opts):
                args.extend([param.opts[0], draw(_value(param))])
    return args + fixed.get(path, [])


def _fixed(shop: Shop) -> dict[tuple[str, ...], list[str]]:
    """Options held fixed so that no example leaves this machine or waits for a browser."""
    zoho = shop.zoho_api
    return {
        ("hitpay", "connect"): ["--api-url", shop.charges_api.url],
        ("zoho", "connect"): [
            "--accounts-url", zoho.accounts_url, "--api-url", zoho.api_url, "--grant-code", "x",
        ],
    }  # fmt: skip


ENVIRONMENTS = st.fixed_dictionaries(
    {},
    optional={
        "LEDGERSYNC_SECRET_KEY": st.just(Fernet.generate_key().decode()) | TEXT,
        "LEDGERSYNC_CLOCK_OFFSET": st.sampled_from(["", "abc", "1e309", "-1e12", "inf"]),
        "HITPAY_API_KEY": TEXT,
        "ZOHO_CLIENT_ID": TEXT,
        "ZOHO_CLIENT_SECRET": TEXT,
        "LEDGERSYNC_DB": TEXT,
    },
).map(lambda env: {k: v.replace("\x00", "") for k, v in env.items()})


def _stores(shop: Shop, tmp: Path) -> st.SearchStrategy[list[str]]:
    return st.sampled_from(
        [
            ["--db", shop.db_url],
            ["--db", shop.db_url],
            ["--db", shop.db_url],
            ["--db", shop.db_url],
            ["--db", "postgresql+pg8000://ledgersync@127.0.0.1:1/none"],
            ["--db", f"sqlite:///file:{tmp / 'absent.sqlite'}?mode=ro&uri=true"],
            ["--db", "sqlite:////nonexistent/folder/store.sqlite"],
            ["--db", "not a url"],
            [],
        ]
    )


def assert_no_traceback(result: Any) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__} escaped: {result.output}")
    assert "Traceback" not in result.output, result.output
    assert "unexpected error" not in result.output, result.output


@pytest.fixture
def synced_shop(shop: Shop) -> Shop:
    now = clock.now()
    day0 = local_midnight(now, 2)
    seed_sales(shop.charges_api, day0)
    shop.connect()
    shop.enable(day0, now)
    assert shop.cli("sync", "shop").exit_code == 0
    return shop


@settings(
    max_examples=examples(dev=150, ci=600),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_command_ever_shows_a_traceback(
    synced_shop: Shop, tmp_path: Path, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # restored after the test
    shop = synced_shop
    store = data.draw(_stores(shop, tmp_path), label="store")
    args = data.draw(invocations(_fixed(shop)), label="args")
    odd = data.draw(st.integers(0, 3), label="odd environment") == 0
    env = ZOHO_ENV | (data.draw(ENVIRONMENTS, label="env") if odd else {})
    os.chdir(tmp_path)  # relative paths (journal files) land in the test's folder
    result = CliRunner().invoke(build_cli(), [*store, *args], env=env, input="")
    event(f"exit {result.exit_code}")
    event(f"ran {' '.join(args[:2])}" if result.exit_code == 0 else "refused")
    assert_no_traceback(result)


# -- each case from the trial, by itself --------------------------------------------------


def _connect(shop: Shop, name: str, db_url: str | None = None) -> Any:
    return CliRunner().invoke(
        build_cli(),
        [
            "--db", db_url or shop.db_url, "hitpay", "connect", name,
            "--api-key", shop.charges_api.api_key, "--api-url", shop.charges_api.url,
            "--timezone", "Asia/Singapore",
        ],
    )  # fmt: skip


def test_a_name_that_is_not_utf8_is_one_line_in_a_real_process(shop: Shop) -> None:
    done = subprocess.run(
        [os.fsencode(LEDGERSYNC), b"--db", shop.db_url.encode(), b"status", b"caf\xe9"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert done.stderr.decode().strip().splitlines()[-1] == (
        "Error: argument 4 (caf\\xe9) is not valid UTF-8 text; use plain text (check the "
        "terminal's or the script's encoding)."
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x" * 101, "the connection name is 101 characters long; the store holds at most 100."),
        ("tab\there", "has control characters or spaces at its ends"),
        (" shop", "has control characters or spaces at its ends"),
        ("", "a connection name cannot be empty."),
    ],
)
def test_names_are_validated_on_every_store(
    shop: Shop, any_db_url: str, name: str, expected: str
) -> None:
    result = _connect(shop, name, any_db_url)
    assert result.exit_code == 1
    assert expected in one_line_error(result.output)
    assert _connect(shop, "x" * 100, any_db_url).exit_code == 0  # the longest that fits


def test_names_must_differ_by_more_than_case(shop: Shop) -> None:
    assert _connect(shop, "Shop").exit_code == 0
    assert shop.cli("disconnect", "Shop", "--yes").exit_code == 0  # the business is free again
    result = _connect(shop, "shop")
    assert "differs from the existing 'Shop' only by case" in one_line_error(result.output)
    assert _connect(shop, "Shop").exit_code == 0  # the same name reconnects


@pytest.mark.parametrize("scheme", ["postgresql+pg8000", "postgresql+psycopg2"])
def test_a_store_driver_that_is_not_installed(shop: Shop, scheme: str) -> None:
    result = CliRunner().invoke(build_cli(), ["--db", f"{scheme}://u@127.0.0.1/x", "status"])
    line = one_line_error(result.output)
    assert "needs the database driver" in line and "ledgersync[postgres]" in line


def test_the_postgres_extra_missing_in_a_real_process(tmp_path: Path) -> None:
    """As without ``pip install 'ledgersync[postgres]'``: psycopg cannot be imported."""
    program = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from core.cli.main import main; main(sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "--db", "postgresql+psycopg://u@127.0.0.1/x", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "Error: the store at postgresql+psycopg://u@127.0.0.1/x needs the database driver "
        "'psycopg' (postgresql+psycopg://), which is not installed. Install it: pip install "
        "'ledgersync[postgres]'."
    )


def test_a_read_only_store(shop: Shop) -> None:
    shop.connect()
    path = shop.db_url.removeprefix("sqlite:///")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert shop.cli("status", "shop").exit_code == 0
    result = CliRunner().invoke(
        build_cli(), ["--db", read_only, "settings", "shop", "--mode", "individual"]
    )
    line = one_line_error(result.output)
    assert "is read-only (attempt to write a readonly database)" in line
    assert "Give this user write access" in line
    reading = CliRunner().invoke(build_cli(), ["--db", read_only, "status", "shop"])
    assert reading.exit_code == 0, reading.output


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child: writes past ``limit`` bytes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_is_one_line_and_the_next_run_finishes(shop: Shop) -> None:
    now = clock.now()
    day0 = local_midnight(now, 2)
    for day in range(2):
        for hour in range(24):
            seed_sales(shop.charges_api, day0 - timedelta(days=2 * day, hours=hour))
    shop.connect()
    shop.enable(day0 - timedelta(days=4), now)
    store = Path(shop.db_url.removeprefix("sqlite:///"))
    full = shop.run("sync", "shop", preexec_fn=_file_size_limit(store.stat().st_size))
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stdout + full.stderr
    assert full.stdout.startswith("Sync of shop: failed\n"), full.stdout
    line = full.stdout.strip().splitlines()[-1].strip()
    assert line.startswith("the disk holding the store at /"), full.stdout
    # SQLite says "database or disk is full" for a short write, "disk I/O error" for a
    # refused one (a file size limit refuses the write whole): both are named the same way.
    assert "is full (database or disk is full)" in line or (
        "failed a write (disk I/O error): it is full, or failing." in line
    ), line
    assert (
        line.endswith(
            "Free some space (or check the disk) and run the command again: what "
            "it had not finished was rolled back, not half-written."
        )
        or "Free some space and run" in line
    )
    assert (
        full.stderr.strip()
        == ("ledgersync: sync of shop failed (OperationalError: disk I/O error)")
        or "disk is full" in full.stderr
    )
    after = shop.cli("sync", "shop", "--force")
    assert after.exit_code == 0, after.output
    assert shop.cli("sync", "shop", "--force").output.count("created:") == 0


def test_a_value_the_store_cannot_hold_is_one_line(any_db_url: str) -> None:
    """A data error from the database itself (PostgreSQL's; SQLite takes text of any type)."""
    if any_db_url.startswith("sqlite"):
        pytest.skip("SQLite stores any value in any column: only PostgreSQL refuses one")
    engine = create_engine(any_db_url)
    try:
        with pytest.raises(DataError) as caught, engine.connect() as connection:
            connection.execute(text("SELECT CAST('not a number' AS integer)"))
    finally:
        engine.dispose()
    line = one_line(caught.value, any_db_url)
    assert line is not None
    assert line.message.startswith("the store at postgresql+psycopg://")
    assert "cannot hold a value given (invalid input syntax for type integer" in line.message
    assert line.message.endswith(
        "Shorten or correct it and run the command again: what it "
        "had not finished was rolled back, not half-written."
    )
