"""The e-mail notifier, speaking SMTP to a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.smtp import MailServer
from support.tls import LoopbackCertificate, make_loopback_certificate

from core.connections.alerts import notify
from core.contracts import AccountSettings, ConnectionInfo, Notice, NoticeKind
from core.errors import ConfigurationError, TransientError
from core.plugins import Plugins
from notifications.email import EmailNotifier, SmtpSettings, render_notice

# Plain-text AUTH on loopback is what these tests mean to exercise.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "p@ss:w0rd/secret"
ENCODED_PASSWORD = "p%40ss%3Aw0rd%2Fsecret"
SENDER = "ledgersync@books.example"
OCCURRED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def connection(
    name: str = "acme-sg", emails: tuple[str, ...] = ("ops@acme.example",)
) -> ConnectionInfo:
    return ConnectionInfo(
        id=7,
        name=name,
        source="hitpay",
        destination="zoho_books",
        timezone=ZoneInfo("Asia/Singapore"),
        mode="bulk",
        channels=None,
        settings=AccountSettings(),
        status="failed",
        enabled=True,
        notify_emails=emails,
    )


def failure(info: ConnectionInfo | None = None, **changes: object) -> Notice:
    values: dict[str, object] = {
        "kind": NoticeKind.CONNECTION_FAILED,
        "connection": info or connection(),
        "subject": "ledgersync: connection acme-sg failed",
        "message": "The destination refused the refresh token (invalid_code).",
        "hint": "Reconnect it with `ledgersync zoho connect acme-sg ...`.",
        "occurred_at": OCCURRED,
        "details": {"side": "destination"},
    }
    values.update(changes)
    return Notice(**values)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer() as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificate:
    return make_loopback_certificate(tmp_path_factory.mktemp("tls"))


def notifier(url: str) -> EmailNotifier:
    return EmailNotifier({"LEDGERSYNC_SMTP_URL": url, "LEDGERSYNC_MAIL_FROM": SENDER})


# ----------------------------------------------------------------------------- sending


def test_a_notice_arrives_with_subject_recipients_and_both_bodies(server: MailServer) -> None:
    info = connection(emails=("ops@acme.example", "cfo@acme.example"))
    notifier(f"smtp://127.0.0.1:{server.port}").send(failure(info))
    [mail] = server.mailbox.received
    assert mail.mail_from == SENDER
    assert mail.recipients == ("ops@acme.example", "cfo@acme.example")
    assert mail.message["Subject"] == "ledgersync: connection acme-sg failed"
    assert mail.message["To"] == "ops@acme.example, cfo@acme.example"
    assert mail.message["X-Ledgersync-Notice"] == "connection_failed"
    text, html = mail.part("text/plain"), mail.part("text/html")
    for body in (text, html):
        assert "The connection acme-sg has failed and its sync is paused." in body
        assert "refused the refresh token (invalid_code)" in body
        assert "ledgersync zoho connect acme-sg" in body
        assert "2026-11-24 10:00 Asia/Singapore" in body  # local time of the connection
        assert "destination" in body
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_html_escapes_what_came_from_outside_and_text_keeps_it(server: MailServer) -> None:
    hostile = "<script>alert(1)</script>"
    notice = failure(connection(name=hostile), message="token <b>revoked</b> & gone")
    notifier(f"smtp://127.0.0.1:{server.port}").send(notice)
    [mail] = server.mailbox.received
    html, text = mail.part("text/html"), mail.part("text/plain")
    assert "<script>" not in html and "<b>revoked" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "token &lt;b&gt;revoked&lt;/b&gt; &amp; gone" in html
    assert hostile in text and "token <b>revoked</b> & gone" in text


def test_each_kind_has_its_own_subject_headline_and_advice() -> None:
    info = connection()
    rendered = {
        kind: render_notice(failure(info, kind=kind, subject="", hint="")) for kind in NoticeKind
    }
    assert len({r.subject for r in rendered.values()}) == len(NoticeKind)
    restored = rendered[NoticeKind.CONNECTION_RESTORED]
    assert restored.subject == "ledgersync: connection acme-sg restored; sync resumed"
    assert "works again" in restored.text
    failed = rendered[NoticeKind.CONNECTION_FAILED]
    assert "ledgersync zoho connect acme-sg" in failed.text  # how to reconnect, by default
    assert "history acme-sg" in rendered[NoticeKind.SYNC_FAILED].text


def test_a_newline_in_a_subject_cannot_add_headers() -> None:
    rendered = render_notice(failure(subject="failed\r\nBcc: thief@example.com"))
    assert rendered.subject == "failed Bcc: thief@example.com"


def test_login_with_a_percent_encoded_password(caplog: pytest.LogCaptureFixture) -> None:
    with MailServer(username="mailer", password=PASSWORD) as server:
        url = f"smtp://mailer:{ENCODED_PASSWORD}@127.0.0.1:{server.port}"
        with caplog.at_level(logging.DEBUG):
            notifier(url).send(failure())
        assert server.mailbox.logins == ["mailer"]
        assert len(server.mailbox.received) == 1
    assert "via 127.0.0.1" in caplog.text
    assert PASSWORD not in caplog.text and ENCODED_PASSWORD not in caplog.text


def test_a_refused_login_is_reported_by_notify_without_the_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with MailServer(username="mailer", password="the-right-one") as server:
        url = f"smtp://mailer:{ENCODED_PASSWORD}@127.0.0.1:{server.port}"
        with pytest.raises(TransientError, match=r"could not be sent via 127\.0\.0\.1"):
            notifier(url).send(failure())
        monkeypatch.setenv("LEDGERSYNC_SMTP_URL", url)
        monkeypatch.setenv("LEDGERSYNC_MAIL_FROM", SENDER)
        with caplog.at_level(logging.DEBUG):
            failures = notify(Plugins(), failure())  # the built-in e-mail and log notifiers
        assert server.mailbox.received == []
    assert [f.notifier for f in failures] == ["email"]
    assert "SMTPAuthenticationError" in failures[0].error
    for text in (failures[0].error, caplog.text):
        assert PASSWORD not in text and ENCODED_PASSWORD not in text


def test_a_server_that_is_down_is_a_transient_error() -> None:
    with MailServer() as server:
        port = server.port
    with pytest.raises(TransientError, match=f"127.0.0.1:{port}"):
        notifier(f"smtp://127.0.0.1:{port}?timeout=5").send(failure())


def test_the_built_in_plugin_sends_through_notify(
    server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERSYNC_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("LEDGERSYNC_MAIL_FROM", SENDER)
    plugins = Plugins()
    assert "email" in [cls.name for cls in plugins.notifiers()]
    assert notify(plugins, failure()) == []
    assert len(server.mailbox.received) == 1
    email_row = next(row for row in plugins.describe() if row["name"] == "email")
    assert email_row["provides"] == ["notifier:email"]
    assert email_row["hooks"] == ["register_notifiers"]


def test_starttls_with_a_private_certificate_authority(certificate: LoopbackCertificate) -> None:
    with MailServer(
        username="mailer", password=PASSWORD, starttls=certificate.server_context()
    ) as server:
        url = (
            f"smtp+starttls://mailer:{ENCODED_PASSWORD}@127.0.0.1:{server.port}"
            f"?cafile={certificate.ca_file}"
        )
        notifier(url).send(failure())
        assert server.mailbox.logins == ["mailer"]
        assert len(server.mailbox.received) == 1


def test_tls_refuses_a_server_it_cannot_verify(certificate: LoopbackCertificate) -> None:
    with MailServer(starttls=certificate.server_context()) as server:
        with pytest.raises(TransientError, match="SSLCertVerificationError"):
            notifier(f"smtp://127.0.0.1:{server.port}?starttls=1").send(failure())
        assert server.mailbox.received == []


def test_smtps_speaks_tls_from_the_first_byte(certificate: LoopbackCertificate) -> None:
    with MailServer(implicit_tls=certificate.server_context()) as server:
        notifier(f"smtps://127.0.0.1:{server.port}?cafile={certificate.ca_file}").send(failure())
        assert len(server.mailbox.received) == 1


# ----------------------------------------------------------------------------- inert cases


def test_without_an_smtp_url_nothing_is_sent(
    server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="notifications.email"):
        EmailNotifier({}).send(failure())
    assert server.mailbox.received == []
    assert "LEDGERSYNC_SMTP_URL is not set" in caplog.text


def test_a_connection_without_addresses_gets_no_mail(
    server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="notifications.email"):
        notifier(f"smtp://127.0.0.1:{server.port}").send(failure(connection(emails=())))
    assert server.mailbox.received == []
    assert "acme-sg has no notification address" in caplog.text


def test_the_sender_defaults_to_ledgersync_at_this_host() -> None:
    assert EmailNotifier({"LEDGERSYNC_SMTP_URL": "smtp://mail"}).sender.startswith("ledgersync@")


# ----------------------------------------------------------------------------- the URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", ("mail.example", 25, "plain", None)),
        ("smtp://mail.example?starttls=1", ("mail.example", 25, "starttls", None)),
        ("smtp+starttls://u@mail.example", ("mail.example", 587, "starttls", "u")),
        ("smtps://u:p@mail.example", ("mail.example", 465, "ssl", "u")),
        ("SMTPS://mail.example:2465", ("mail.example", 2465, "ssl", None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[str, int, str, str | None]) -> None:
    settings = SmtpSettings.from_url(url)
    assert (settings.host, settings.port, settings.security, settings.username) == expected


def test_the_password_is_decoded_and_never_in_a_repr() -> None:
    settings = SmtpSettings.from_url(f"smtp://mailer:{ENCODED_PASSWORD}@mail.example:25")
    assert settings.password == PASSWORD
    notifier_repr = repr(EmailNotifier({"LEDGERSYNC_SMTP_URL": f"smtp://m:{ENCODED_PASSWORD}@x"}))
    for text in (repr(settings), notifier_repr):
        assert PASSWORD not in text and ENCODED_PASSWORD not in text and "w0rd" not in text


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://mailer:{ENCODED_PASSWORD}@mail.example", "scheme http:// is not one of"),
        (f"smtp://mailer:{ENCODED_PASSWORD}@", "names no host"),
        (f"smtp://mailer:{ENCODED_PASSWORD}@mail.example:port", "valid port"),
        ("smtp://mail.example?timeout=soon", "timeout is not a number"),
    ],
)
def test_a_bad_url_is_explained_without_repeating_it(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as raised:
        EmailNotifier({"LEDGERSYNC_SMTP_URL": url})
    assert ENCODED_PASSWORD not in str(raised.value) and PASSWORD not in str(raised.value)
    assert "smtp://USER:PASSWORD@HOST:PORT" in raised.value.hint


def test_templates_ship_with_the_package() -> None:
    import notifications

    folder = Path(notifications.__file__).parent / "templates"
    assert sorted(p.name for p in folder.glob("*.j2")) == ["notice.html.j2", "notice.txt.j2"]
