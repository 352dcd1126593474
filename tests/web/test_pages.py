"""The pages do what the CLI does, with the CLI's functions and words."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from core import clock
from core.cli.main import build_cli
from core.connections.lifecycle import enable
from core.connections.setup import load_connection
from core.host import Host
from core.web.syncs import SyncRunner
from plugins.zoho_books.testing.standin import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from web.conftest import AtPage, Shop

SETTINGS = "/connections/shop/settings"
PAGE = "/connections/shop"


def _accounts(shop: Shop) -> dict[str, str]:
    assert shop.accounts is not None
    return {
        "sales_account": str(shop.accounts.sales_account),
        "fee_account": str(shop.accounts.fee_account),
        "refund_account": str(shop.accounts.refund_account),
        "bank_account": str(shop.accounts.bank_account),
        "item": str(shop.accounts.item),
    }


def _cli_error(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(build_cli(), ["--db", db_url, *args])
    assert result.exit_code != 0
    return result.output.strip().removeprefix("Error: ")


def test_save_shows_every_problem_at_once_in_the_clis_words(
    page: AtPage, shop: Shop, db_url: str
) -> None:
    shop.connect()
    wrong = {**_accounts(shop), "sales_account": _accounts(shop)["fee_account"]}
    answer = page.post(
        SETTINGS,
        {
            **wrong,
            "mode": "bulk",
            "timezone": "Mars/Olympus",
            "sync_time": "25:00",
            "notify_email": "not-an-address",
            "all_channels": "on",
        },
        form_page=PAGE,
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True).replace("&#39;", "'")
    for args in (
        ["--timezone", "Mars/Olympus"],
        ["--sync-time", "25:00"],
        ["--notify-email", "not-an-address"],
        ["--sales-account", wrong["sales_account"]],
    ):
        message = _cli_error(db_url, "settings", "shop", *args)
        assert message in html, (args, message)
    # Nothing was saved: the stored settings are the earlier ones.
    shown = page.get(PAGE).get_data(as_text=True)
    assert "Asia/Singapore" in shown and "Mars/Olympus" not in shown


def test_save_maps_accounts_sets_everything_and_enables(page: AtPage, shop: Shop) -> None:
    shop.connect(configure=False)
    form = page.get(PAGE).get_data(as_text=True)
    assert "Income accounts" in form and "Other types (Save refuses them)" in form
    answer = page.post(
        SETTINGS,
        {
            **_accounts(shop),
            "mode": "individual",
            "timezone": "Asia/Tokyo",
            "sync_time": "03:30",
            "notify_email": "a@shop.example, b@shop.example",
            "channels": ["shopify", "point_of_sale"],
            "enabled": "on",
        },
        form_page=PAGE,
    )
    assert answer.status_code == 302
    saved = load_connection(shop.host, "shop")
    assert saved.mode == "individual" and saved.enabled
    assert saved.channels == ("point_of_sale", "shopify")
    assert saved.timezone.key == "Asia/Tokyo"
    assert saved.notify_emails == ("a@shop.example", "b@shop.example")
    assert saved.settings.sales_account == _accounts(shop)["sales_account"]
    after = page.get(PAGE).get_data(as_text=True)
    assert "Sync enabled: charges created from" in after


def test_enabling_without_accounts_says_what_is_missing(page: AtPage, shop: Shop) -> None:
    shop.connect(configure=False)
    answer = page.post(SETTINGS, {"enabled": "on", "all_channels": "on"}, form_page=PAGE)
    assert answer.status_code == 422
    assert "is missing settings: sales_account" in answer.get_data(as_text=True)


def test_sync_now_then_the_hourly_limit(app: Flask, page: AtPage, shop: Shop) -> None:
    shop.connect()
    enable(shop.host, "shop")
    start = page.post("/connections/shop/sync", {}, form_page=PAGE)
    assert start.status_code == 302
    runner: SyncRunner = app.extensions["ledgersync.syncs"]
    assert runner.wait("shop", 120)
    done = page.get("/connections/shop/sync").get_data(as_text=True)
    assert 'id="outcome"' in done and "succeeded" in done
    html = page.get(PAGE).get_data(as_text=True)
    assert 'id="sync-now" disabled' in html
    assert "next allowed at" in html
    # Posting the form anyway (an old tab) is refused by the engine's own rule.
    page.post("/connections/shop/sync", {}, form_page="/connections/shop/history")
    assert runner.wait("shop", 60)
    refused = page.get("/connections/shop/sync").get_data(as_text=True)
    assert "manual sync is allowed once per hour" in refused


def _enable_a_minute_ago(shop: Shop) -> None:
    """Charges the stand-in creates now (stamped to the second) fall inside the period."""
    enable(shop.host, "shop", since=clock.now() - timedelta(minutes=1))


def test_the_ledger_filters_and_downloads_csv(app: Flask, page: AtPage, shop: Shop) -> None:
    shop.connect()
    _enable_a_minute_ago(shop)
    from core.connections.settings import SettingsChange, change_settings

    change_settings(shop.host, "shop", SettingsChange(mode="individual"))
    shop.hitpay.standin.add_charge(amount=Decimal("12.34"))
    shop.hitpay.standin.add_charge(amount=Decimal("5.00"))
    page.post("/connections/shop/sync", {}, form_page=PAGE)
    assert app.extensions["ledgersync.syncs"].wait("shop", 120)
    invoices = page.get("/connections/shop/ledger?kind=invoice").get_data(as_text=True)
    assert (
        "12.34" in invoices
        and "<td>payment</td>" not in invoices
        and "<td>invoice</td>" in invoices
    )
    csv = page.get("/connections/shop/ledger.csv?kind=payment")
    assert csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "key,kind,date,amount,currency,state,remote_id,error"
    assert len(lines) == 3 and all(",payment," in line for line in lines[1:])
    assert {line.split(",")[3] for line in lines[1:]} == {"12.34", "5.00"}


def test_quarantine_and_why(app: Flask, page: AtPage, shop: Shop) -> None:
    shop.connect()
    _enable_a_minute_ago(shop)
    good = shop.hitpay.standin.add_charge(amount=Decimal("7.00"))
    shop.hitpay.standin.add_charge(amount="<b>seven</b>")
    page.post("/connections/shop/sync", {}, form_page=PAGE)
    assert app.extensions["ledgersync.syncs"].wait("shop", 120)
    quarantine = page.get("/connections/shop/quarantine").get_data(as_text=True)
    assert 'id="quarantine"' in quarantine and "<b>seven" not in quarantine
    why = page.get(f"/connections/shop/why?charge={good['id']}").get_data(as_text=True)
    assert good["id"] in why and 'id="answer"' in why
    unknown = page.get("/connections/shop/why?charge=ch_nope").get_data(as_text=True)
    assert 'id="answer"' in unknown


def test_connect_hitpay_checks_the_key_and_never_shows_it(page: AtPage, shop: Shop) -> None:
    standin = shop.hitpay.standin
    wrong = page.post(
        "/plugins/hitpay/connect",
        {"name": "shop", "api_key": "wrong-key", "api_url": standin.url},
        form_page="/connections/new",
    )
    assert urlsplit(wrong.headers["Location"]).path == "/connections/new"
    assert "HitPay was not connected" in page.get("/connections/new").get_data(as_text=True)
    right = page.post(
        "/plugins/hitpay/connect",
        {
            "name": "shop",
            "api_key": standin.api_key,
            "api_url": standin.url,
            "timezone": "Asia/Singapore",
        },
        form_page="/connections/new",
    )
    assert urlsplit(right.headers["Location"]).path == "/connections/shop"
    html = page.get(PAGE).get_data(as_text=True)
    assert "the key works and is stored encrypted" in html
    assert "An API key is stored" in html and standin.api_key not in html


def test_connect_zoho_through_the_consent_redirect_and_the_picker(page: AtPage, shop: Shop) -> None:
    shop.hitpay.connect(shop.host, "shop", "Asia/Singapore")
    zoho = shop.zoho.standin
    org = zoho.create_organization("Picked Pte Ltd", "SGD")
    start = page.post(
        "/plugins/zoho_books/shop/connect",
        {
            "datacenter": "com",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "accounts_url": zoho.accounts_url,
            "api_url": zoho.api_url,
        },
        form_page=PAGE,
    )
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/plugins/zoho_books/callback"
    callback = page.get(f"{back.path}?{back.query}")
    assert urlsplit(callback.headers["Location"]).path == "/plugins/zoho_books/organization"
    picker = page.get("/plugins/zoho_books/organization").get_data(as_text=True)
    assert "Picked Pte Ltd" in picker
    done = page.post(
        "/plugins/zoho_books/organization",
        {"organization": org.organization_id},
        form_page="/plugins/zoho_books/organization",
    )
    assert urlsplit(done.headers["Location"]).path == PAGE
    html = page.get(PAGE).get_data(as_text=True)
    assert (
        f"Connected shop to Zoho Books organization Picked Pte Ltd ({org.organization_id})" in html
    )
    assert 'id="sales_account"' in html and "Income accounts" in html


def test_disconnect_keeps_the_history(app: Flask, page: AtPage, shop: Shop) -> None:
    shop.connect()
    enable(shop.host, "shop")
    page.post("/connections/shop/sync", {}, form_page=PAGE)
    assert app.extensions["ledgersync.syncs"].wait("shop", 120)
    confirm = page.get("/connections/shop/disconnect").get_data(as_text=True)
    assert "Your sync history is kept" in confirm
    page.post("/connections/shop/disconnect", {}, form_page="/connections/shop/disconnect")
    assert 'id="state">disconnected' in page.get(PAGE).get_data(as_text=True)
    history = page.get("/connections/shop/history").get_data(as_text=True)
    assert 'id="history"' in history and "succeeded" in history


def test_an_unknown_connection_is_a_404(page: AtPage) -> None:
    assert page.get("/connections/nobody").status_code == 404
    assert page.get("/connections/nobody/ledger").status_code == 404


@pytest.mark.parametrize("kind", ["sqlite"])
def test_the_connections_list_shows_each_connection(page: AtPage, shop: Shop, kind: str) -> None:
    shop.connect()
    html = page.get("/connections").get_data(as_text=True)
    for header in ("Last sync", "Next scheduled sync", "API calls today", "Quarantined"):
        assert header in html
    assert "hitpay → zoho_books" in html and ">disabled<" in html
    host: Host = shop.host
    enable(host, "shop")
    assert ">active<" in page.get("/connections").get_data(as_text=True)


def test_credentials_under_another_secret_key_give_a_clear_line_not_a_crash(
    shop: Shop, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    from core.plugins import get_plugins
    from core.web import create_app
    from core.web.operator import save_operator
    from web.conftest import PASSWORD, USER

    shop.connect()
    monkeypatch.setenv("LEDGERSYNC_SECRET_KEY", Fernet.generate_key().decode())
    other = Host(db_url, plugins=get_plugins())
    try:
        app = create_app(other, operator=save_operator(other.key_file, USER, PASSWORD))
        at = AtPage(app.test_client())
        at.login()
        answer = at.get(PAGE)
        assert answer.status_code == 200
        assert "cannot be decrypted with LEDGERSYNC_SECRET_KEY" in answer.get_data(as_text=True)
    finally:
        other.close()


def _tax_options(html: str) -> dict[str, str]:
    """The tax picker's options: label (as shown) -> value."""
    picker = html[html.index('<select name="tax"') :]
    picker = picker[: picker.index("</select>")]
    return {
        label.strip(): value
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', picker)
    }


def test_the_tax_picker_lists_the_organizations_taxes_and_saves_one(
    page: AtPage, shop: Shop, db_url: str
) -> None:
    shop.hitpay.connect(shop.host, shop.name, "Asia/Singapore")
    accounts = shop.zoho.connect(shop.host, shop.name, tax_registered=True)
    shop.accounts = accounts
    options = _tax_options(page.get(PAGE).get_data(as_text=True))
    assert list(options)[:2] == ["Choose…", "None: lines carry no tax"]
    assert {"GST9 [SR] 9%", "GST0 [ZR] 0%", "GST7 [SR] (old) 7% (inactive)"} <= set(options)

    # The accounts first (the destination checks a tax once every account is set) ...
    answer = page.post(SETTINGS, {**_accounts(shop), "all_channels": "on"}, form_page=PAGE)
    assert answer.status_code == 302
    # ... then an inactive tax: refused with the CLI's own words, nothing saved.
    inactive = options["GST7 [SR] (old) 7% (inactive)"]
    answer = page.post(SETTINGS, {"tax": inactive, "all_channels": "on"}, form_page=PAGE)
    assert answer.status_code == 422
    message = _cli_error(db_url, "settings", "shop", "--tax", inactive)
    assert "inactive" in message
    assert message in answer.get_data(as_text=True).replace("&#39;", "'")
    assert load_connection(shop.host, "shop").settings.extra.get("tax") is None

    gst = options["GST9 [SR] 9%"]
    answer = page.post(SETTINGS, {"tax": gst, "all_channels": "on"}, form_page=PAGE)
    assert answer.status_code == 302
    assert load_connection(shop.host, "shop").settings.extra["tax"] == gst
    shown = page.get(PAGE).get_data(as_text=True)
    assert f'<option value="{gst}" selected>' in shown


def test_an_organization_without_taxes_has_no_tax_picker(page: AtPage, shop: Shop) -> None:
    shop.connect()
    html = page.get(PAGE).get_data(as_text=True)
    assert 'id="item"' in html and 'id="tax"' not in html
