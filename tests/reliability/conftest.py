"""Fixtures of the reliability suite and its summary line.

``LEDGERSYNC_RELIABILITY_FULL=1`` (or ``--full-crash-sweep`` when pytest is pointed at this
folder) runs every crash point of every kind and more hypothesis examples; by default the
``kill -9`` sweep is sampled and the stateful test runs a CI-sized budget.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reliability.reference import MODES, NOW, Reference, run_reference
from reliability.tally import tally

FULL_ENV = "LEDGERSYNC_RELIABILITY_FULL"


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
    """A factory of fresh SQLite files, in memory-backed /dev/shm when there is one (a sync
    commits often; on a disk every commit waits for fsync)."""
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
