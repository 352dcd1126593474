"""The whole integration page in a real browser (Chromium) against `ledgersync serve` and both
stand-ins: log in, connect both sides (through Zoho's consent redirect), map accounts (a wrong
type shows the CLI's message), enable, Sync Now, the result and the ledger, the hourly limit,
quarantine, why, disconnect. Each page is saved as a picture in docs/pictures/."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core import clock
from core.host import Host
from core.plugins import get_plugins
from core.store.repository import get_connection
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)
from web.browser import chromium, need_chromium, screenshot, served, wait_until

PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    need_chromium()
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def _by_id(driver: Any, element_id: str) -> Any:
    """The element, once the page has it (a page under load may still be arriving)."""
    from selenium.webdriver.common.by import By

    return wait_until(
        lambda: driver.find_element(By.ID, element_id),
        f"#{element_id} on {driver.current_url}",
    )


def _type(driver: Any, element_id: str, text: str) -> None:
    field = _by_id(driver, element_id)
    field.clear()
    field.send_keys(text)


def _select(driver: Any, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(_by_id(driver, element_id)).select_by_value(value)


def _open_advanced(driver: Any, form_id: str) -> None:
    from selenium.webdriver.common.by import By

    _by_id(driver, form_id).find_element(By.TAG_NAME, "summary").click()


def _text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def _log_in(driver: Any, base: str) -> None:
    driver.get(f"{base}/connections")
    wait_until(lambda: "/login" in driver.current_url, "the login page")
    screenshot(driver, "login")
    _type(driver, "user", "operator")
    _type(driver, "password", PASSWORD)
    _by_id(driver, "log-in").click()
    # Not `current_url.endswith("/connections")`: the login page's own address,
    # /login?next=/connections, ends so too, and the next page opened would cut the login short.
    wait_until(lambda: urlsplit(driver.current_url).path == "/connections", "the connections page")


def _connect_hitpay(driver: Any, base: str, hitpay: HitPayStandIn) -> None:
    driver.get(f"{base}/connections/new")
    _type(driver, "name", "shop")
    _type(driver, "api_key", hitpay.api_key)
    _type(driver, "hitpay_timezone", "Asia/Singapore")
    _open_advanced(driver, "connect-hitpay")
    _type(driver, "api_url", hitpay.url)
    screenshot(driver, "new-connection")
    _by_id(driver, "connect-hitpay-button").click()
    wait_until(lambda: "the key works and is stored encrypted" in _text(driver), "HitPay")


def _connect_zoho(driver: Any, zoho: ZohoBooksStandIn, organization_id: str) -> None:
    _select(driver, "datacenter", "com")
    _type(driver, "client_id", DEFAULT_CLIENT_ID)
    _type(driver, "client_secret", DEFAULT_CLIENT_SECRET)
    _open_advanced(driver, "connect-zoho")
    _type(driver, "accounts_url", zoho.accounts_url)
    _type(driver, "zoho_api_url", zoho.api_url)
    _by_id(driver, "connect-zoho-button").click()
    # The browser goes to Zoho's consent page, which sends it back to the page's callback.
    wait_until(lambda: "Which Zoho Books organization?" in _text(driver), "the picker")
    screenshot(driver, "organization")
    driver.find_element("css selector", f"input[value='{organization_id}']").click()
    _by_id(driver, "confirm-organization").click()
    wait_until(lambda: "Connected shop to Zoho Books organization" in _text(driver), "Zoho")


def _save(driver: Any) -> None:
    _by_id(driver, "save").click()


def test_the_whole_flow_in_a_browser(
    browser: Any, db_url: str, secret_key: str, tmp_path: Path
) -> None:
    driver = browser
    with (
        HitPayStandIn(timezone="Asia/Singapore") as hitpay,
        ZohoBooksStandIn(per_minute=100_000) as zoho,
        served(db_url, {"LEDGERSYNC_WEB_PASSWORD": PASSWORD}) as base,
    ):
        org = zoho.create_organization("Shop Pte Ltd", "SGD")
        _log_in(driver, base)
        _connect_hitpay(driver, base, hitpay)
        _connect_zoho(driver, zoho, org.organization_id)

        # A wrong account type: the destination's own message, as the CLI prints it.
        wrong = org.fee_account  # an expense account offered as the sales account
        for setting, value in [
            ("sales_account", wrong),
            ("fee_account", org.fee_account),
            ("refund_account", org.refund_account),
            ("bank_account", org.bank_account),
            ("item", org.item),
        ]:
            _select(driver, setting, value)
        _type(driver, "sync_time", "25:00")
        _save(driver)
        problems = wait_until(lambda: _by_id(driver, "problems").text, "the problems")
        assert "is of type expense, but it needs type income" in problems
        assert "sync time '25:00' is not HH:MM." in problems  # both at once
        screenshot(driver, "settings-problems")

        _select(driver, "sales_account", org.sales_account)
        _type(driver, "sync_time", "02:00")
        _type(driver, "notify_email", "books@shop.example")
        driver.find_element("css selector", "input[name=mode][value=individual]").click()
        _by_id(driver, "enabled").click()
        _save(driver)
        wait_until(lambda: "Settings saved." in _text(driver), "the saved settings")
        assert "Sync enabled" in _text(driver)
        # The stand-in stamps charges to the second: let the second of the enabling pass.
        enabled_by = clock.now()
        wait_until(lambda: clock.now().replace(microsecond=0) > enabled_by, "the next second")

        # Sales after enabling: two good ones, one HitPay sends malformed (quarantined).
        sales = [
            hitpay.add_charge(amount=Decimal("25.00")),
            hitpay.add_charge(amount=Decimal("9.90")),
        ]
        hitpay.add_charge(amount="twelve")
        _by_id(driver, "sync-now").click()
        outcome = wait_until(lambda: _present(driver, "outcome"), "the sync to end", timeout=120)
        assert outcome == "succeeded", _text(driver)
        report = _by_id(driver, "report").text
        assert "created:" in report and "2 invoice" in report
        screenshot(driver, "sync")

        driver.get(f"{base}/connections/shop/ledger?kind=invoice")
        ledger = _by_id(driver, "ledger").text
        assert "25.00" in ledger and "9.90" in ledger and "delivered" in ledger
        assert "payment" not in ledger  # the filter holds
        screenshot(driver, "ledger")

        driver.get(f"{base}/connections/shop")
        assert _by_id(driver, "sync-now").get_attribute("disabled") is not None
        assert "next allowed at" in _by_id(driver, "next-allowed").text
        screenshot(driver, "integration")

        driver.get(f"{base}/connections/shop/quarantine")
        assert "twelve" in _text(driver) or "amount" in _by_id(driver, "quarantine").text
        screenshot(driver, "quarantine")
        driver.get(f"{base}/connections/shop/why?charge={sales[0]['id']}")
        assert "invoice" in _by_id(driver, "answer").text
        screenshot(driver, "why")
        driver.get(f"{base}/connections/shop/history")
        screenshot(driver, "history")
        driver.get(f"{base}/connections")
        assert "active" in _by_id(driver, "connections").text
        screenshot(driver, "connections")

        driver.get(f"{base}/connections/shop")
        _by_id(driver, "disconnect").click()
        assert "Your sync history is kept" in _by_id(driver, "confirm").text
        screenshot(driver, "disconnect")
        _by_id(driver, "confirm-disconnect").click()
        wait_until(lambda: "Its history is kept" in _text(driver), "the disconnect")
        assert _by_id(driver, "state").text == "disconnected"

    host = Host(db_url, plugins=get_plugins())
    try:
        with host.database.session() as session:
            assert get_connection(session, "shop").status == "disconnected"
    finally:
        host.close()


def _present(driver: Any, element_id: str) -> str | None:
    from selenium.common.exceptions import NoSuchElementException

    try:
        return str(_by_id(driver, element_id).text)
    except NoSuchElementException:
        return None
