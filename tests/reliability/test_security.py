"""Nobody gets at a merchant's credentials, and nothing a merchant or a vendor types runs.

- The whole life of a connection through the real CLI (connect both sides, pick accounts,
  settings, enable, sync, status, history, ledger, a revoked grant with its e-mail, a wrong
  key, disconnect), with every logger at DEBUG (urllib3, requests and SQLAlchemy included):
  no secret (HitPay key, Zoho client secret, grant code, refresh and access tokens, the
  store's own key) in any CLI output, log record or e-mail, nor in the bytes of the store.
- The store's key file is created with mode 0600.
- The OAuth redirect listener binds 127.0.0.1 only, serves one request, and a redirect with
  the wrong ``state`` is refused without the code being used.
- Names and texts with SQL metacharacters, terminal escape sequences and HTML are stored as
  they are and shown inert: escaped by the CLI, HTML-escaped in e-mails.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select
from support.smtp import MailServer

from core import clock
from core.cli.main import build_cli
from core.store.models import Connection, Credential
from plugins.zoho_books import commands as zoho_commands
from plugins.zoho_books.testing.standin.server import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from reliability.system import ZONE, System, small_data_set

OPS = "ops@shop.example"
ESC = "\x1b"
# A name may hold quotes, SQL and markup (stored as given, shown inert), but not control
# characters: those are refused with one line (core.connections.setup.check_name).
HOSTILE_NAME = "shop'; DROP TABLE connections; -- <b>bold</b>"
CONTROL_NAME = "shop\x1b[2J\x1b]0;owned\x07"
HOSTILE_REMARK = "\x1b[31mPAID\x1b[0m '; DELETE FROM documents; -- <script>alert(1)</script>"


class Capture(logging.Handler):
    """Every log record of every logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    levels = {
        name: logging.getLogger(name).level for name in ("", "urllib3", "requests", "sqlalchemy")
    }
    root.addHandler(capture)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@dataclass
class World:
    system: System
    folder: Path
    db_url: str
    mail: MailServer
    outputs: list[str] = field(default_factory=list)
    commands: list[tuple[str, ...]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def cli(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        # color=True: output as a terminal gets it (click strips nothing it would not strip
        # on a terminal)
        result = CliRunner().invoke(
            build_cli(), ["--db", self.db_url, *args], env=env or {}, input=input, color=True
        )
        self.outputs.append(result.output)
        self.commands.append(args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        self.remember()
        return result

    def remember(self) -> None:
        """Every credential the vendors have issued so far is a secret to look for."""
        oauth = self.system.zoho.oauth
        self.secrets |= set(oauth.refresh_tokens) | set(oauth.access_tokens) | set(oauth.grants)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    folder = tmp_path / "store"
    folder.mkdir()
    db_url = f"sqlite:///{folder / 'ledgersync.sqlite'}"
    with MailServer() as mail, System(db_url, notify_emails=(OPS,)) as system:
        monkeypatch.setenv("LEDGERSYNC_SMTP_URL", f"smtp://127.0.0.1:{mail.port}")
        world = World(system, folder, db_url, mail)
        world.secrets |= {system.hitpay.api_key, DEFAULT_CLIENT_SECRET}
        yield world


def connect_by_cli(world: World, name: str) -> Result:
    system = world.system
    first = world.cli(
        "hitpay", "connect", name, "--api-url", system.hitpay.url, "--timezone", str(ZONE),
        env={"HITPAY_API_KEY": system.hitpay.api_key},
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    system.org = system.zoho.create_organization("Shop Pte Ltd", "SGD")
    code = system.zoho.issue_grant_code()
    world.remember()
    second = world.cli(
        "zoho", "connect", name, "--datacenter", "com",
        "--accounts-url", system.zoho.accounts_url, "--api-url", system.zoho.api_url,
        "--client-id", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET,
        "--grant-code", code, "--organization", system.org.organization_id,
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    org = system.org
    third = world.cli(
        "settings", name, "--sales-account", org.sales_account, "--fee-account", org.fee_account,
        "--refund-account", org.refund_account, "--bank-account", org.bank_account,
        "--item", org.item, "--mode", "individual", "--notify-email", OPS,
    )  # fmt: skip
    assert third.exit_code == 0, third.output
    return third


def live_a_connection_s_life(world: World, name: str) -> None:
    system = world.system
    connect_by_cli(world, name)
    assert world.cli("zoho", "accounts", name).exit_code == 0
    assert world.cli("zoho", "items", name).exit_code == 0
    data = small_data_set(clock.now())
    charge_ids = system.add(data)
    system.hitpay.add_charge(
        amount=Decimal("9.90"), created_at=data.charges[-1].at, remark=HOSTILE_REMARK
    )
    assert data.since is not None
    assert world.cli("enable", name, "--since", data.since.isoformat()).exit_code == 0
    synced = world.cli("sync", name, "--force")
    assert synced.exit_code == 0 and "succeeded" in synced.output, synced.output
    for args in (
        ("sync", name, "--force", "--json"),
        ("status",),
        ("status", name, "--json"),
        ("history", name),
        ("ledger", name),
        ("ledger", name, "--json"),
        ("connections",),
        ("why", name, charge_ids[0]),
    ):
        result = world.cli(*args)
        assert result.exit_code == 0, (args, result.output)
    # The merchant revokes the grant at Zoho: the next sync fails, one e-mail goes out.
    system.hitpay.add_charge(amount=Decimal("5.00"), created_at=data.charges[-1].at)
    refresh = system.vault_named(name).get("refresh_token")
    assert refresh
    system.zoho.revoke(refresh)
    system.zoho.advance(2 * 3600)  # the access token in hand expires too
    failed = world.cli("sync", name, "--force")
    assert failed.exit_code == 1, failed.output
    assert world.cli("status", name).exit_code == 0
    assert len(world.mail.mailbox.received) == 1
    # Someone types a wrong key: refused, and the key is not echoed.
    wrong = "sk_live_" + "9f" * 20
    world.secrets.add(wrong)
    refused = world.cli(
        "hitpay", "connect", "other", "--api-url", system.hitpay.url, env={"HITPAY_API_KEY": wrong}
    )
    assert refused.exit_code != 0
    assert world.cli("disconnect", name, "--yes").exit_code == 0


def texts_seen(world: World, logs: Capture) -> dict[str, str]:
    seen = {f"cli output {n}": text for n, text in enumerate(world.outputs)}
    seen |= {f"log line {n}": line for n, line in enumerate(logs.lines)}
    for n, mail in enumerate(world.mail.mailbox.received):
        seen[f"e-mail {n}"] = mail.message.as_string()
    return seen


def test_no_secret_is_ever_shown_logged_mailed_or_stored_in_clear(
    world: World, debug_logs: Capture
) -> None:
    live_a_connection_s_life(world, "shop")
    key_file = world.folder / "ledgersync.key"
    store_key = key_file.read_text().strip()
    secrets = {s for s in world.secrets | {store_key} if s}
    assert len(secrets) >= 6  # key, client secret, grant code, refresh and access tokens
    leaks = [
        (where, secret[:6] + "...")
        for where, text in texts_seen(world, debug_logs).items()
        for secret in secrets
        if secret in text
    ]
    lines = texts_seen(world, debug_logs)
    assert not leaks, [(w, lines[w][:400]) for w, _ in leaks]
    assert any("urllib3" in line for line in debug_logs.lines)  # DEBUG really was on
    stored = b"".join(path.read_bytes() for path in world.folder.iterdir() if path != key_file)
    assert stored  # the store's bytes, journal and WAL files included
    in_store = [s[:6] + "..." for s in secrets if s.encode() in stored]
    assert not in_store, in_store


def test_the_store_key_file_is_readable_by_its_owner_only(world: World) -> None:
    connect_by_cli(world, "shop")
    key_file = world.folder / "ledgersync.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with world.system.host.database.session() as session:
        ciphertexts = list(session.scalars(select(Credential.ciphertext)))
    assert ciphertexts and all(world.system.hitpay.api_key.encode() not in c for c in ciphertexts)


# ----------------------------------------------------------------------------- OAuth redirect


def local_address() -> str | None:
    """This host's address on a non-loopback interface, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def refused(host: str, port: int, family: int = socket.AF_INET) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as client:
        client.settimeout(2)
        try:
            client.connect((host, port))
        except OSError:
            return True
    return False


def test_the_redirect_listener_is_loopback_only_one_shot_and_checks_the_state(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = world.system
    assert world.cli(
        "hitpay", "connect", "shop", "--api-url", system.hitpay.url,
        env={"HITPAY_API_KEY": system.hitpay.api_key},
    ).exit_code == 0  # fmt: skip
    seen: dict[str, object] = {}

    def browser(url: str, *, forge: bool) -> bool:
        redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        parts = urlsplit(redirect)
        port = int(parts.port or 0)
        seen["port"] = port
        seen["host"] = parts.hostname
        address = local_address()
        seen["other interface refused"] = address is None or refused(address, port)
        seen["ipv6 refused"] = refused("::1", port, socket.AF_INET6) if socket.has_ipv6 else True
        stray = requests.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=5)
        seen["stray"] = stray.status_code  # does not count as the answer
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if forge:
            query["state"] = "forged-" + query["state"][:8]
        answer = requests.get(f"http://127.0.0.1:{port}/callback?{urlencode(query)}", timeout=5)
        seen["answer"] = answer.status_code
        return True

    args = (
        "zoho", "connect", "shop", "--datacenter", "com",
        "--accounts-url", system.zoho.accounts_url, "--api-url", system.zoho.api_url,
        "--client-id", DEFAULT_CLIENT_ID, "--client-secret", DEFAULT_CLIENT_SECRET,
        "--organization", sorted(system.zoho.organizations)[0],
    )  # fmt: skip
    monkeypatch.setattr(zoho_commands.webbrowser, "open", lambda url: browser(url, forge=True))
    forged = world.cli(*args)
    assert forged.exit_code == 1 and "wrong state" in forged.output
    assert not any(grant.used for grant in system.zoho.oauth.grants.values())
    assert seen["host"] == "127.0.0.1"
    assert seen["other interface refused"] and seen["ipv6 refused"]
    assert (seen["stray"], seen["answer"]) == (404, 200)
    assert refused("127.0.0.1", int(seen["port"]))  # type: ignore[call-overload]
    with system.host.database.session() as session:
        assert session.scalar(select(Connection.destination)) is None

    monkeypatch.setattr(zoho_commands.webbrowser, "open", lambda url: browser(url, forge=False))
    honest = world.cli(*args)
    assert honest.exit_code == 0, honest.output
    assert refused("127.0.0.1", int(seen["port"]))  # type: ignore[call-overload]


# ----------------------------------------------------------------------------- injection


def test_hostile_names_and_texts_are_stored_as_given_and_shown_inert(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = world.system
    refused = world.cli(
        "hitpay", "connect", CONTROL_NAME, "--api-url", system.hitpay.url, "--timezone", str(ZONE),
        env={"HITPAY_API_KEY": system.hitpay.api_key},
    )  # fmt: skip
    assert refused.exit_code == 1 and "control characters" in refused.output, refused.output
    assert "Traceback" not in refused.output
    with system.host.database.session() as session:
        assert session.scalar(select(Connection.name)) is None  # nothing stored
    name = HOSTILE_NAME
    connect_by_cli(world, name)
    zoho_org = system.zoho.organization(system.org.organization_id)
    zoho_org.add_account("\x1b[2J\x1b[1;1HClearing <i>", "bank")
    assert world.cli("zoho", "accounts", name, "--refresh").exit_code == 0
    assert world.cli("zoho", "items", name).exit_code == 0
    data = small_data_set(clock.now())
    charge_ids = system.add(data)
    system.hitpay.add_charge(
        amount=Decimal("9.90"), created_at=data.charges[-1].at, remark=HOSTILE_REMARK
    )
    system.hitpay.add_charge(currency="\x1b[31mxyz", created_at=data.charges[-1].at)
    assert data.since is not None
    assert world.cli("enable", name, "--since", data.since.isoformat()).exit_code == 0
    synced = world.cli("sync", name, "--force")
    assert synced.exit_code == 0 and "succeeded" in synced.output, synced.output
    for args in (
        ("status",),
        ("status", name),
        ("history", name),
        ("ledger", name),
        ("ledger", name, "--csv"),
        ("connections",),
        ("settings", name),
        ("why", name, charge_ids[0]),
    ):
        shown = world.cli(*args)
        assert shown.exit_code == 0, (args, shown.output)
    unknown = world.cli("sync", "\x1b[2Jno such connection")
    assert unknown.exit_code == 1, unknown.output
    assert "no such connection" in unknown.output and "Traceback" not in unknown.output
    refresh = system.vault_named(name).get("refresh_token")
    assert refresh
    system.zoho.revoke(refresh)
    system.zoho.advance(2 * 3600)
    system.hitpay.add_charge(amount=Decimal("5.00"), created_at=data.charges[-1].at)
    failed = world.cli("sync", name, "--force")
    assert failed.exit_code == 1, failed.output

    raw = [
        (args[:2], [line[:90] for line in text.splitlines() if ESC in line or "\x07" in line])
        for args, text in zip(world.commands, world.outputs, strict=True)
        if ESC in text or "\x07" in text
    ]
    assert not raw, raw
    assert any("\\x1b[2J" in text for text in world.outputs)  # shown, escaped
    with system.host.database.session() as session:
        assert session.scalar(select(Connection.name)) == name  # stored exactly
        tables = set(inspect(session.get_bind()).get_table_names())
    assert {"connections", "documents", "source_records"} <= tables
    mails = world.mail.mailbox.received
    assert any("failed" in str(m.message["Subject"]) for m in mails)
    for mail in mails:  # the quarantine notice and the failure notice
        html = mail.part("text/html")
        assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
        assert "<script>" not in html
