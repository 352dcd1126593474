"""Web fixtures: the page on a fresh store through Flask's test client, with real HitPay and
Zoho Books stand-ins over HTTP; a helper that logs in and posts forms with their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.pairs import settings_from
from werkzeug.test import TestResponse

from core.connections.settings import change_settings
from core.contracts import AccountSettings
from core.host import Host
from core.plugins import get_plugins
from core.web import create_app
from core.web.operator import Operator, save_operator
from core.web.throttle import LoginThrottle
from plugins.hitpay_source.testing.kit import HitPayStandInKit
from plugins.hitpay_source.testing.standin import HitPayStandIn
from plugins.zoho_books.testing.kit import ZohoBooksStandInKit
from plugins.zoho_books.testing.standin import ZohoBooksStandIn

USER = "operator"
PASSWORD = "correct horse battery staple"
TIMEZONE = "Asia/Singapore"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class AtPage:
    """The operator at the page: a test client that logs in and posts real forms."""

    client: FlaskClient

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.client.get(path, **options)

    def post(self, path: str, data: dict[str, Any], *, form_page: str) -> TestResponse:
        """Post ``data`` with the CSRF token of the form on ``form_page``."""
        token = csrf_token(self.client.get(form_page).get_data(as_text=True))
        return self.client.post(path, data={**data, "csrf_token": token})

    def login(self, user: str = USER, password: str = PASSWORD) -> TestResponse:
        return self.post("/login", {"user": user, "password": password}, form_page="/login")


@pytest.fixture(scope="module")
def zoho_standin() -> Iterator[ZohoBooksStandIn]:
    with ZohoBooksStandIn(per_minute=100_000) as standin:
        yield standin


@pytest.fixture
def hitpay_standin() -> Iterator[HitPayStandIn]:
    with HitPayStandIn(timezone=TIMEZONE) as standin:
        yield standin


@pytest.fixture
def web_host(db_url: str, secret_key: str) -> Iterator[Host]:
    host = Host(db_url, plugins=get_plugins())
    yield host
    host.close()


@pytest.fixture
def operator(web_host: Host) -> Operator:
    return save_operator(web_host.key_file, USER, PASSWORD)


@pytest.fixture
def app(web_host: Host, operator: Operator) -> Flask:
    return create_app(web_host, operator=operator, throttle=LoginThrottle())


@pytest.fixture
def visitor(app: Flask) -> FlaskClient:
    """A browser with no session."""
    return app.test_client()


@pytest.fixture
def page(app: Flask) -> AtPage:
    """The operator, logged in."""
    at = AtPage(app.test_client())
    assert at.login().status_code == 302
    return at


@dataclass
class Shop:
    name: str
    host: Host
    hitpay: HitPayStandInKit
    zoho: ZohoBooksStandInKit
    accounts: AccountSettings | None = None

    def connect(self, *, configure: bool = True) -> AccountSettings:
        self.hitpay.connect(self.host, self.name, TIMEZONE)
        self.accounts = self.zoho.connect(self.host, self.name)
        if configure:
            change_settings(self.host, self.name, settings_from(self.accounts))
        return self.accounts


@pytest.fixture
def shop(web_host: Host, hitpay_standin: HitPayStandIn, zoho_standin: ZohoBooksStandIn) -> Shop:
    return Shop(
        "shop", web_host, HitPayStandInKit(hitpay_standin), ZohoBooksStandInKit(zoho_standin)
    )
