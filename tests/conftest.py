"""Shared fixtures: a fresh store per test, a secret key, plugins without installed extras."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings
from support.databases import DATABASE_KINDS, throwaway_postgres

from core import clock
from core.host import Host
from core.plugins import Plugins, reset_plugins
from core.store.database import open_database

# CI: Hypothesis's own ``ci`` profile (derandomized, no example database, reproduction blobs
# printed, no deadline) with more examples; the costly properties choose theirs in
# support/budget.py.
settings.register_profile(
    "ci",
    parent=settings.get_profile("ci"),
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

BUILT_INS = "hitpay,zoho_books,log,email,file_journal"

INSTANT_VARIABLE = "LEDGERSYNC_TEST_INSTANT"
_RANDOM_SPAN = timedelta(days=400)


def chosen_instant(setting: str | None) -> tuple[datetime | None, str]:
    """The instant the suite runs at, from ``LEDGERSYNC_TEST_INSTANT``, and how it was chosen.

    Unset or empty: the wall clock, unmoved. An ISO-8601 instant with its offset: that instant.
    ``random`` or ``random:SEED``: a seeded random instant within 400 days of 2026-01-01, to the
    second (the seed is printed, so a failure can be replayed)."""
    if not setting:
        return None, "the wall clock"
    if setting.startswith("random"):
        seed = setting.partition(":")[2] or str(random.SystemRandom().randrange(10**6))
        offset = random.Random(int(seed)).randrange(int(_RANDOM_SPAN.total_seconds()))
        instant = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
        return instant, f"random:{seed}"
    instant = datetime.fromisoformat(setting)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"{INSTANT_VARIABLE}={setting!r} needs a UTC offset, e.g. Z")
    return instant.astimezone(UTC), "fixed"


_INSTANT, _HOW = chosen_instant(os.environ.get(INSTANT_VARIABLE))
if _INSTANT is not None:
    # Every process the tests start inherits the offset: the CLI, workers and stand-ins agree.
    os.environ[clock.OFFSET_VARIABLE] = clock.offset_for(_INSTANT)


def pytest_report_header() -> str:
    if _INSTANT is None:
        return f"ledgersync clock: the wall clock (set {INSTANT_VARIABLE} to move it)"
    shown = _INSTANT.isoformat(timespec="seconds")
    return f"ledgersync clock: every test starts at {shown} ({_HOW})"


TIME_SENSITIVE_FOLDERS = ("e2e", "scale")
_CLOCK_READS = ("clock.now(", "utcnow(", "clear_of(", "move_clock(")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests whose outcome could depend on the instant they run at: those in the
    folders that drive whole syncs at the current time, and any module that reads the clock."""
    reads: dict[Path, bool] = {}
    tests = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if path not in reads:
            text = path.read_text(encoding="utf-8")
            folder = path.relative_to(tests).parts[0]
            reads[path] = folder in TIME_SENSITIVE_FOLDERS or any(c in text for c in _CLOCK_READS)
        if reads[path]:
            item.add_marker(pytest.mark.time_sensitive)


@pytest.fixture(autouse=True)
def _clock_at_the_chosen_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """With LEDGERSYNC_TEST_INSTANT set, every test starts at that very instant (not minutes
    after it, as the suite goes on), so an awkward instant is awkward for each test."""
    if _INSTANT is not None:
        monkeypatch.setenv(clock.OFFSET_VARIABLE, clock.offset_for(_INSTANT))


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads the user's data directory, real credentials or installed extras."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("LEDGERSYNC_DB", raising=False)
    monkeypatch.delenv("LEDGERSYNC_SECRET_KEY", raising=False)
    monkeypatch.delenv("LEDGERSYNC_DISABLE_PLUGINS", raising=False)
    monkeypatch.setenv("LEDGERSYNC_LOAD_PLUGINS", BUILT_INS)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite store per test (the embedded default), created as a connect command would:
    commands that read or run never create one."""
    url = f"sqlite:///{tmp_path / 'ledgersync.sqlite'}"
    open_database(url).dispose()
    return url


@pytest.fixture(params=DATABASE_KINDS)
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The embedded SQLite file, and a fresh PostgreSQL database on the server that
    LEDGERSYNC_TEST_DATABASE_URL names (each test its own database; skipped, saying so, where
    it is not set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledgersync.sqlite'}"
        return
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def any_host(any_db_url: str, plugins: Plugins) -> Iterator[Host]:
    """A Host on every configured database kind."""
    h = Host(any_db_url, plugins=plugins)
    yield h
    h.close()


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", key)
    return key


@pytest.fixture
def plugins() -> Plugins:
    return Plugins()


@pytest.fixture
def host(db_url: str, plugins: Plugins) -> Iterator[Host]:
    h = Host(db_url, plugins=plugins)
    yield h
    h.close()
