"""`ledgersync zoho connect | accounts | items` end to end, the browser played by a test."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from click.testing import CliRunner, Result
from sqlalchemy import select

from core.cli.main import build_cli
from core.errors import AuthorizationFailed
from core.host import Host
from core.plugins import get_plugins
from core.store.models import ApiUsage, Connection, Credential
from plugins.zoho_books import commands, connecting
from plugins.zoho_books.testing.standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZohoBooksStandIn,
)
from zoho_books.helpers import TestSourcePlugin, add_source_connection

ENV = {"ZOHO_CLIENT_ID": DEFAULT_CLIENT_ID, "ZOHO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}


@pytest.fixture
def cli_host(db_url: str, secret_key: str) -> Iterator[Host]:
    plugins = get_plugins()
    plugins.register(TestSourcePlugin(), name="ledger_test_source")
    host = Host(db_url, plugins=plugins)
    add_source_connection(host, "shop")
    add_source_connection(host, "other", account="business-2")
    yield host
    host.close()


def run(db_url: str, *args: str, input: str | None = None, env: dict[str, str] = ENV) -> Result:
    return CliRunner().invoke(build_cli(), ["--db", db_url, *args], input=input, env=env)


def connect_args(zoho: ZohoBooksStandIn, name: str = "shop") -> list[str]:
    return [
        "zoho",
        "connect",
        name,
        "--datacenter",
        "com",
        "--accounts-url",
        zoho.accounts_url,
        "--api-url",
        zoho.api_url,
    ]


def destination_of(host: Host, name: str) -> Connection:
    with host.database.session() as session:
        row = session.scalar(select(Connection).where(Connection.name == name))
        assert row is not None
        session.expunge(row)
        return row


def test_headless_connect_with_a_self_client_code(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    assert zoho.default is not None
    org = zoho.default.organization_id
    code = zoho.issue_grant_code()
    result = run(db_url, *connect_args(zoho), "--grant-code", code, "--organization", org)
    assert result.exit_code == 0, result.output
    assert f"Acme Trading Pte Ltd ({org})" in result.output
    row = destination_of(cli_host, "shop")
    assert (row.destination, row.destination_org, row.status) == ("zoho_books", org, "active")
    assert row.destination_config["api_url"] == zoho.api_url
    assert row.destination_config["accounts_url"] == zoho.accounts_url
    vault = cli_host.vault(row.id)
    refresh = vault.get("refresh_token")
    assert refresh and refresh in zoho.oauth.refresh_tokens
    assert vault.get("client_secret") == DEFAULT_CLIENT_SECRET
    with cli_host.database.session() as session:
        stored = b"".join(session.scalars(select(Credential.ciphertext)))
    assert refresh.encode() not in stored and DEFAULT_CLIENT_SECRET.encode() not in stored
    assert refresh not in result.output and DEFAULT_CLIENT_SECRET not in result.output


def test_the_user_picks_the_organization_from_a_list(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    second = sorted(zoho.organizations)[1]
    code = zoho.issue_grant_code()
    result = run(db_url, *connect_args(zoho), "--grant-code", code, input=f"{second}\n")
    assert result.exit_code == 0, result.output
    assert "Acme Inc  USD" in result.output and "(default)" in result.output
    assert destination_of(cli_host, "shop").destination_org == second


@pytest.mark.vendor_fact("zoho.oauth.authorize_url", "zoho.oauth.redirect_location")
def test_the_browser_flow_end_to_end(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        # The user consents; Zoho redirects to the loopback listener, which answers.
        page = requests.get(url, timeout=5)
        assert page.status_code == 200 and "close this tab" in page.text
        return True

    monkeypatch.setattr(commands.webbrowser, "open", browser)
    org = sorted(zoho.organizations)[0]
    result = run(db_url, *connect_args(zoho), "--organization", org)
    assert result.exit_code == 0, result.output
    [url] = opened
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert len(query["state"][0]) >= 24
    assert query["access_type"] == ["offline"]
    assert destination_of(cli_host, "shop").destination_org == org
    assert all(grant.used for grant in zoho.oauth.grants.values())


def test_a_redirect_with_the_wrong_state_is_refused(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forged_browser(url: str) -> bool:
        redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        parts = urlsplit(redirect)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": "forged"}
        requests.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}", timeout=5)
        return True

    monkeypatch.setattr(commands.webbrowser, "open", forged_browser)
    result = run(db_url, *connect_args(zoho))
    assert result.exit_code == 1
    assert "wrong state" in result.output
    assert destination_of(cli_host, "shop").destination is None
    assert not any(grant.used for grant in zoho.oauth.grants.values())  # code never exchanged


def test_a_refused_consent_is_reported(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoho.oauth.deny_consent = True
    monkeypatch.setattr(commands.webbrowser, "open", lambda url: bool(requests.get(url)))
    result = run(db_url, *connect_args(zoho))
    assert result.exit_code == 1 and "did not grant access (access_denied)" in result.output


def test_no_browser_prints_the_url_and_gives_up_when_nothing_comes(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(commands.webbrowser, "open", opened.append)
    result = run(db_url, *connect_args(zoho), "--no-browser", "--wait", "0.2")
    assert result.exit_code == 1
    assert f"{zoho.accounts_url}/oauth/v2/auth?" in result.output
    assert "no answer from the browser" in result.output
    assert opened == []


def test_an_unknown_client_suggests_another_datacenter(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    env = {"ZOHO_CLIENT_ID": "1000.ELSEWHERE", "ZOHO_CLIENT_SECRET": "x"}
    result = run(db_url, *connect_args(zoho), "--grant-code", "c", env=env)
    assert result.exit_code == 1 and "wrong datacenter?" in result.output


def test_the_client_secret_is_asked_for_when_not_given(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    org = sorted(zoho.organizations)[0]
    code = zoho.issue_grant_code()
    result = run(
        db_url,
        *connect_args(zoho),
        "--grant-code",
        code,
        "--organization",
        org,
        input=f"{DEFAULT_CLIENT_SECRET}\n",
        env={"ZOHO_CLIENT_ID": DEFAULT_CLIENT_ID},
    )
    assert result.exit_code == 0, result.output
    assert DEFAULT_CLIENT_SECRET not in result.output  # typed hidden


def test_connect_needs_the_connection_first(db_url: str, secret_key: str) -> None:
    result = run(db_url, "zoho", "connect", "nope", "--datacenter", "eu", "--grant-code", "c")
    assert result.exit_code == 1 and "no connection named 'nope'" in result.output


def test_one_organization_per_business_and_the_spare_token_is_revoked(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    org = sorted(zoho.organizations)[0]
    first = run(db_url, *connect_args(zoho), "--grant-code", zoho.issue_grant_code(),
                "--organization", org)  # fmt: skip
    assert first.exit_code == 0, first.output
    second = run(db_url, *connect_args(zoho, "other"), "--grant-code", zoho.issue_grant_code(),
                 "--organization", org)  # fmt: skip
    assert second.exit_code == 1
    assert "already connected as 'shop'" in second.output
    live = [t for t in zoho.oauth.refresh_tokens.values() if not t.revoked]
    assert len(live) == 1  # the second connect's refresh token did not outlive the refusal


def test_an_unknown_organization_is_refused_with_the_reachable_ones(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    result = run(db_url, *connect_args(zoho), "--grant-code", zoho.issue_grant_code(),
                 "--organization", "42")  # fmt: skip
    assert result.exit_code == 1 and "Reachable:" in result.output


def test_the_accounts_and_items_pickers(
    cli_host: Host, db_url: str, zoho: ZohoBooksStandIn
) -> None:
    assert zoho.default is not None
    org = zoho.default
    run(db_url, *connect_args(zoho), "--grant-code", zoho.issue_grant_code(),
        "--organization", org.organization_id)  # fmt: skip
    banks = run(db_url, "zoho", "accounts", "shop", "--type", "bank")
    assert banks.exit_code == 0, banks.output
    lines = banks.output.strip().splitlines()
    assert f"{org.bank_account}  bank" in lines[0] and "HitPay Clearing" in lines[0]
    assert any("Closed Clearing  (inactive)" in line for line in lines)
    assert all(" bank " in line for line in lines)
    everything = run(db_url, "zoho", "accounts", "shop", "--json")
    assert '"account_type": "other_current_liability"' in everything.output
    items = run(db_url, "zoho", "items", "shop")
    assert f"{org.item}  Sales" in items.output and "Discontinued  (inactive)" in items.output
    with cli_host.database.session() as session:
        used = sum(session.scalars(select(ApiUsage.calls)))
    # chart of accounts once (then the cache), items once; and at connect the claim read and
    # the invoices and expenses listed under ledgersync's keys (what the next sync adopts)
    assert used == 2 + 3


def test_an_unknown_accounts_server_in_the_redirect_is_not_trusted() -> None:
    assert connecting.accounts_server("http://x", None) == "http://x"
    assert connecting.accounts_server("https://accounts.zoho.com", "https://accounts.zoho.eu") == (
        "https://accounts.zoho.eu"
    )
    with pytest.raises(AuthorizationFailed, match="unknown accounts server"):
        connecting.accounts_server("https://accounts.zoho.com", "https://evil.example")
