"""Fixtures of the reliability suite and its summary line.

``LEDGERSYNC_RELIABILITY_FULL=1`` (or ``--full-crash-sweep`` when pytest is pointed at this
folder) runs every crash point of every kind and more hypothesis examples; by default the
``kill -9`` sweep is sampled and the stateful test runs a CI-sized budget.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reliability.reference import MODES, NOW, Reference, run_reference
from reliability.tally import tally

FULL_ENV = "LEDGERSYNC_RELIABILITY_FULL"
STORE_ENV = "LEDGERSYNC_RELIABILITY_STORE"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full-crash-sweep",
        action="store_true",
        default=False,
        help=f"reliability: every crash point and a larger hypothesis budget (or {FULL_ENV}=1)",
    )


def full_sweep(config: pytest.Config) -> bool:
    if os.environ.get(FULL_ENV, "") not in ("", "0"):
        return True
    try:
        return bool(config.getoption("--full-crash-sweep"))
    except ValueError:  # the option is only known when pytest starts in this folder
        return False


@pytest.fixture
def full(request: pytest.FixtureRequest) -> bool:
    return full_sweep(request.config)


@pytest.fixture(scope="session")
def fresh_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """A factory of fresh stores: SQLite files, in memory-backed /dev/shm when there is one (a
    sync commits often; on a disk every commit waits for fsync); or with
    LEDGERSYNC_RELIABILITY_STORE=postgresql a fresh database per call on the server named by
    LEDGERSYNC_TEST_DATABASE_URL."""
    server = os.environ.get("LEDGERSYNC_TEST_DATABASE_URL")
    if os.environ.get(STORE_ENV) == "postgresql":
        if not server:
            pytest.skip(f"{STORE_ENV}=postgresql needs LEDGERSYNC_TEST_DATABASE_URL")
        yield from _postgresql_databases(server)
        return
    base = Path("/dev/shm")
    fallback = tmp_path_factory.mktemp("reliability")
    folder = (
        Path(tempfile.mkdtemp(prefix="ledgersync-rel-", dir=base)) if base.is_dir() else fallback
    )
    made = iter(range(1_000_000))

    def make() -> str:
        path = folder / f"case-{next(made)}"
        path.mkdir()
        return f"sqlite:///{path / 'ledgersync.sqlite'}"

    yield make
    if folder != fallback:
        shutil.rmtree(folder, ignore_errors=True)


def _postgresql_databases(server: str) -> Iterator[Callable[[], str]]:
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"ledgersync_rel_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if Path(__file__).parent in item.path.parents:
        tally.selected += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if tally.selected:
        terminalreporter.write_sep("-", "reliability")
        terminalreporter.write_line(tally.line())


@pytest.fixture(scope="session")
def references(fresh_db: Callable[[], str]) -> dict[str, Reference]:
    """Per mode, the requests and books of an uninterrupted sync of the small data set."""
    return {mode: run_reference(fresh_db(), mode, NOW, NOW) for mode in MODES}
