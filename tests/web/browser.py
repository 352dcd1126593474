"""A real browser for the web tests: Debian's Chromium through its chromedriver (Selenium), and
``ledgersync serve`` as a real process. Nothing is downloaded: the network is closed."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("LEDGERSYNC_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("LEDGERSYNC_CHROMEDRIVER", "/usr/bin/chromedriver"))
LEDGERSYNC = Path(sys.executable).parent / "ledgersync"
# Each run saves a picture of every page here (build/ is not tracked); the README's pictures are
# a run with LEDGERSYNC_PICTURES=docs/pictures.
PICTURES = Path(
    os.environ.get("LEDGERSYNC_PICTURES")
    or Path(__file__).resolve().parents[2] / "build" / "pictures"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def need_chromium() -> None:
    """Skip, saying why, where Chromium or its driver is missing; in CI, fail instead."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if not missing:
        return
    reason = (
        f"browser tests need {', '.join(missing)}: apt-get install chromium chromium-driver "
        "(.ci/run installs them)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> Path:
    """The whole page as docs/pictures/NAME.png (the README's pictures come from here)."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(600, min(int(height) + 40, 4000)))
    path = PICTURES / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` at the deadline.

    While the browser is between two pages the element a check reads may be missing or stale
    for a moment: that counts as "not yet", not as a failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (NoSuchElementException, StaleElementReferenceException):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def served(db_url: str, env: dict[str, str]) -> Iterator[str]:
    """``ledgersync --db URL serve --port 0`` as a process; yields its base URL."""
    if shutil.which(str(LEDGERSYNC)) is None:
        pytest.fail(f"{LEDGERSYNC} is missing: pip install -e . first")
    process = subprocess.Popen(
        [str(LEDGERSYNC), "--db", db_url, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | env,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if "http://" not in line:
            process.kill()
            _, errors = process.communicate(timeout=10)
            raise AssertionError(f"ledgersync serve did not start: {line!r} {errors[-2000:]}")
        yield line.split("http://", 1)[1].split()[0].rstrip("/").join(["http://", ""])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
