"""Security of the page: each rule has a test that fails without it."""

from __future__ import annotations

import base64
import json
import os
import stat
import zlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.clock import move_clock

from core import clock
from core.connections.setup import connect_source
from core.host import Host
from core.store.models import Credential
from core.web.operator import load_operator, operator_file, save_operator
from web.conftest import PASSWORD, USER, AtPage, Shop, csrf_token

NAME_RULES = {"name": "shop"}


def _paths(app: Flask, methods: set[str]) -> list[str]:
    """Every route of the app (the host's and the plugins'), with ``shop`` for names."""
    found = []
    for rule in app.url_map.iter_rules():
        if (
            # the webhook route is public by design: its signature is the check (test_webhooks)
            rule.endpoint in ("static", "auth.login", "auth.favicon", "webhooks.receive")
            or not (rule.methods or set()) & methods
        ):
            continue
        found.append(
            rule.build({k: NAME_RULES[k] for k in rule.arguments}, append_unknown=False)[1]
        )
    return sorted(found)


def test_every_page_and_form_needs_a_session(app: Flask, visitor: FlaskClient, shop: Shop) -> None:
    shop.connect()
    gets, posts = _paths(app, {"GET"}), _paths(app, {"POST"})
    assert len(gets) >= 10 and len(posts) >= 6, (gets, posts)
    assert any(p.startswith("/plugins/zoho_books/") for p in gets + posts)
    assert any(p.startswith("/plugins/hitpay/") for p in posts)
    for path in gets:
        answer = visitor.get(path)
        assert answer.status_code == 302, path
        assert urlsplit(answer.headers["Location"]).path == "/login", path
    for path in posts:  # with no session there is no token either: the login comes first
        answer = visitor.post(path, data={"name": "shop", "enabled": "on"})
        assert answer.status_code == 302, path
        assert urlsplit(answer.headers["Location"]).path == "/login", path
    assert shop.host.vault(1).get("api_key") is not None  # nothing was disconnected


def test_a_form_without_its_csrf_token_is_refused(page: AtPage, shop: Shop) -> None:
    shop.connect()
    answer = page.client.post("/connections/shop/disconnect", data={})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    answer = page.client.post(
        "/connections/shop/disconnect", data={"csrf_token": "forged." + "x" * 40}
    )
    assert answer.status_code == 400
    assert 'id="state">disabled' in page.get("/connections/shop").get_data(as_text=True)
    # With the page's own token the same form works.
    answer = page.post("/connections/shop/disconnect", {}, form_page="/connections/shop/disconnect")
    assert answer.status_code == 302
    assert 'id="state">disconnected' in page.get("/connections/shop").get_data(as_text=True)


def test_the_login_refuses_a_wrong_password_and_sends_only_to_local_pages(
    visitor: FlaskClient,
) -> None:
    at = AtPage(visitor)
    assert at.login(password="wrong password!").status_code == 401
    assert at.login(user="root").status_code == 401
    assert visitor.get("/connections").status_code == 302
    token = csrf_token(visitor.get("/login").get_data(as_text=True))
    answer = visitor.post(
        "/login",
        data={"user": USER, "password": PASSWORD, "next": "//evil.example/x", "csrf_token": token},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/connections"
    assert visitor.get("/connections").status_code == 200


@pytest.mark.time_sensitive
def test_logins_are_throttled_after_failed_attempts(
    visitor: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AtPage(visitor)
    for _ in range(5):
        assert at.login(password="not the password").status_code == 401
    refused = at.login()  # even the right password waits now
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.get_data(as_text=True)
    assert visitor.get("/connections").status_code == 302
    move_clock(monkeypatch, clock.now() + timedelta(minutes=16))
    assert at.login().status_code == 302
    assert visitor.get("/connections").status_code == 200


def test_session_cookies_are_signed_httponly_samesite_and_secure_over_tls(app: Flask) -> None:
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()
        token = csrf_token(client.get("/login", base_url=base).get_data(as_text=True))
        answer = client.post(
            "/login",
            data={"user": USER, "password": PASSWORD, "csrf_token": token},
            base_url=base,
            headers={"Referer": f"{base}/login"},  # over TLS the CSRF check wants it
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        header = next(h for h in answer.headers.getlist("Set-Cookie") if "ledgersync_session" in h)
        assert "HttpOnly" in header and "SameSite=Lax" in header
        assert ("Secure" in header) is secure, header
    # A cookie whose signature does not match is no session.
    client = app.test_client()
    client.set_cookie("ledgersync_session", "eyJvcGVyYXRvciI6Im9wZXJhdG9yIn0.forged.sig")
    assert client.get("/connections").status_code == 302


def test_behind_a_trusted_proxy_the_cookie_is_secure_when_the_proxy_says_https(
    web_host: Host,
) -> None:
    from core.web import create_app

    operator = save_operator(web_host.key_file, USER, PASSWORD)
    app = create_app(web_host, operator=operator, trusted_proxies=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    token = csrf_token(client.get("/login", headers=forwarded).get_data(as_text=True))
    answer = client.post(
        "/login",
        data={"user": USER, "password": PASSWORD, "csrf_token": token},
        headers={**forwarded, "Referer": "https://localhost/login"},
    )
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_every_answer(page: AtPage, visitor: FlaskClient, shop: Shop) -> None:
    shop.connect()
    for answer in (
        visitor.get("/login"),
        visitor.get("/connections"),
        page.get("/connections/shop"),
        page.get("/connections/shop/ledger.csv"),
        page.get("/no/such/page"),
    ):
        policy = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"


def test_output_is_escaped(page: AtPage, web_host: Host, hitpay_standin: object) -> None:
    evil = "<script>alert('x')</script>"
    connect_source(web_host, evil, source="hitpay", source_account="acct", config={}, secrets={})
    html = page.get("/connections").get_data(as_text=True)
    assert evil not in html
    assert "&lt;script&gt;alert(" in html


def test_the_password_is_kept_hashed_in_a_private_file(web_host: Host) -> None:
    save_operator(web_host.key_file, "books", "a long enough passphrase")
    path = operator_file(web_host.key_file)
    text = path.read_text()
    assert "a long enough passphrase" not in text
    assert json.loads(text)["password_hash"].startswith("scrypt:")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_operator(web_host.key_file)
    assert loaded is not None and loaded.check("books", "a long enough passphrase")
    assert not loaded.check("books", "a long enough passphrase!")


def test_the_environment_password_wins_and_is_never_written(
    web_host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERSYNC_WEB_PASSWORD", "from the environment")
    loaded = load_operator(web_host.key_file)
    assert loaded is not None and loaded.check("operator", "from the environment")
    assert not operator_file(web_host.key_file).exists()


def test_a_new_password_ends_the_sessions_made_before(app: Flask, page: AtPage) -> None:
    assert page.get("/connections").status_code == 200
    host: Host = app.extensions["ledgersync.host"]
    app.extensions["ledgersync.operator"] = save_operator(host.key_file, USER, "another passphrase")
    assert page.get("/connections").status_code == 302


def _decoded_session(value: str) -> str:
    payload = value.split(".")[0] if not value.startswith(".") else value.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return zlib.decompress(raw).decode() if value.startswith(".") else raw.decode()


def test_no_page_and_no_cookie_ever_contains_a_stored_secret(
    app: Flask, page: AtPage, shop: Shop
) -> None:
    shop.connect()
    host: Host = app.extensions["ledgersync.host"]
    with host.database.session() as session:
        names = [c.name for c in session.query(Credential)]
    vault = host.vault(1)
    secrets = {name: vault.get(name) for name in names}
    secrets = {k: v for k, v in secrets.items() if v and len(v) >= 8}
    assert {"api_key", "refresh_token", "client_secret", "access_token"} <= set(secrets)
    pages = [p for p in _paths(app, {"GET"}) if "callback" not in p and "organization" not in p]
    pages += ["/connections/shop/ledger.csv", "/connections/shop/why?charge=x", "/login"]
    for path in pages:
        body = page.get(path).get_data(as_text=True)
        for name, value in secrets.items():
            assert value not in body, f"{name} rendered on {path}"
    assert "An API key is stored" in page.get("/connections/shop").get_data(as_text=True)
    cookie = page.client.get_cookie("ledgersync_session")
    assert cookie is not None
    decoded = _decoded_session(cookie.value)
    assert all(value not in decoded for value in secrets.values())


def test_the_oauth_state_is_checked(page: AtPage, shop: Shop, zoho_standin: object) -> None:
    from plugins.zoho_books.testing.standin import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    start = page.post(
        "/plugins/zoho_books/shop/connect",
        {
            "datacenter": "com",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "accounts_url": shop.zoho.standin.accounts_url,
            "api_url": shop.zoho.standin.api_url,
        },
        form_page="/connections/shop",
    )
    assert start.status_code == 302
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    before = len(shop.zoho.standin.accounts_requests)
    forged = page.get("/plugins/zoho_books/callback?code=1000.stolen&state=" + "A" * 32)
    assert forged.status_code == 400
    assert "wrong state" in forged.get_data(as_text=True)
    # The session's state was used up by the forged answer: the real one is refused too now.
    again = page.get(f"/plugins/zoho_books/callback?code=1000.x&state={state}")
    assert again.status_code == 400
    assert len(shop.zoho.standin.accounts_requests) == before  # no code was ever exchanged
