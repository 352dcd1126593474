"""The e-mail notifier: each notice to the connection's addresses, over SMTP.

Configuration, from the environment:

``LEDGERSYNC_SMTP_URL``
    Where to send. Unset: the notifier is inert (it logs at debug level and sends nothing).

    - ``smtp://[USER[:PASSWORD]@]HOST[:PORT]``: plain SMTP, port 25 by default;
      add ``?starttls=1`` to upgrade the connection with STARTTLS.
    - ``smtp+starttls://[USER[:PASSWORD]@]HOST[:PORT]``: STARTTLS, port 587 by default.
    - ``smtps://[USER[:PASSWORD]@]HOST[:PORT]``: TLS from the first byte, port 465 by default.

    USER and PASSWORD are percent-encoded (``@`` as ``%40``, ``:`` as ``%3A``). Options:
    ``timeout=SECONDS`` (default 30) and ``cafile=PATH`` to trust a private certificate
    authority. TLS always verifies the server's certificate and name.

``LEDGERSYNC_MAIL_FROM``
    The sender address (default ``ledgersync@<this host's name>``).

Recipients are the connection's notification addresses (``ledgersync settings NAME
--notify-email ADDR``); a connection with none gets no mail. Bodies come from the Jinja2
templates in ``notifications/templates/`` (text, and HTML with autoescaping, so a name such as
``<script>`` arrives as text). The SMTP password is never logged and never in a repr.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from core.api import (
    ConfigurationError,
    Manifest,
    Notice,
    NoticeKind,
    RegisterNotifier,
    TransientError,
    hookimpl,
)

__all__ = [
    "MANIFEST",
    "EmailNotifier",
    "RenderedNotice",
    "SmtpSettings",
    "register_notifiers",
    "render_notice",
]

MANIFEST = Manifest(
    name="email",
    version="0.1.0",
    summary="E-mails notices (failures, restorations, limits, quarantine) over SMTP "
    "(LEDGERSYNC_SMTP_URL) to each connection's --notify-email addresses.",
    provides=("notifier:email",),
)

log = logging.getLogger(__name__)

URL_VARIABLE = "LEDGERSYNC_SMTP_URL"
FROM_VARIABLE = "LEDGERSYNC_MAIL_FROM"
Security = Literal["plain", "starttls", "ssl"]
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("ssl", 465),
}
_TRUE = {"1", "true", "yes", "on"}

#: Per kind: the subject when a notice has none, the headline, and what to do by default.
KIND_TEXT: dict[NoticeKind, tuple[str, str, str]] = {
    NoticeKind.CONNECTION_FAILED: (
        "ledgersync: connection {name} failed; sync is paused",
        "The connection {name} has failed and its sync is paused.",
        "Reconnect the side whose authorization failed (`ledgersync zoho connect {name} ...` "
        "or `ledgersync hitpay connect {name} ...`), then check `ledgersync status {name}`. "
        "Sync resumes from where it stopped; nothing from the failure period is skipped.",
    ),
    NoticeKind.CONNECTION_RESTORED: (
        "ledgersync: connection {name} restored; sync resumed",
        "The connection {name} works again and its sync has resumed.",
        "Nothing to do: the next sync catches up on everything since the failure.",
    ),
    NoticeKind.SYNC_FAILED: (
        "ledgersync: sync of {name} failed repeatedly",
        "The sync of {name} has failed several times in a row.",
        "See `ledgersync history {name}` for each run's error.",
    ),
    NoticeKind.DAILY_LIMIT_REACHED: (
        "ledgersync: daily API limit reached for {name}",
        "The sync of {name} is paused: the daily API limit is reached.",
        "Nothing to do: sync resumes by itself when the limit resets; nothing is lost.",
    ),
    NoticeKind.RECORDS_QUARANTINED: (
        "ledgersync: records quarantined for {name}",
        "Some records of {name} could not be read and were set aside.",
        "See `ledgersync quarantine {name}`; everything else synced.",
    ),
    NoticeKind.DOCUMENTS_REJECTED: (
        "ledgersync: documents of {name} rejected by the destination",
        "The destination refused some documents of {name}; they and what depends on them wait.",
        "Fix the cause each line names, then run `ledgersync retry {name} --all-failed`.",
    ),
    NoticeKind.BOOKS_DIFFER: (
        "ledgersync: the books of {name} do not tie out",
        "The reconcile after the scheduled sync of {name} found a difference a person must settle.",
        "Run `ledgersync reconcile {name}` and `ledgersync verify {name}` to see where.",
    ),
    NoticeKind.BOOKS_TIE: (
        "ledgersync: the books of {name} tie out again",
        "The reconcile after the scheduled sync of {name} no longer finds what it reported.",
        "Nothing to do.",
    ),
    NoticeKind.TEST: (
        "ledgersync: test notice for {name}",
        "This is a test notice for {name}: e-mail from ledgersync reaches you.",
        "Nothing to do.",
    ),
}
_FALLBACK_TEXT = ("ledgersync: {name}", "A notice about {name}.", "See `ledgersync status {name}`.")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send, parsed from ``LEDGERSYNC_SMTP_URL``. The password is hidden."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse an SMTP URL (module notes); errors never repeat the URL (it may hold a
        password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise _bad_url("it is not a URL with a valid port") from None
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            known = ", ".join(f"{name}://" for name in _SCHEMES)
            raise _bad_url(
                f"its scheme {scheme + '://' if scheme else '(none)'} is not one of {known}"
            )
        if not parts.hostname:
            raise _bad_url("it names no host")
        security, default_port = _SCHEMES[scheme]
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        if security == "plain" and query.get("starttls", "").lower() in _TRUE:
            security = "starttls"
        try:
            timeout = float(query.get("timeout", "30"))
        except ValueError:
            raise _bad_url("its timeout is not a number of seconds") from None
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
            cafile=query.get("cafile") or None,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)


def _bad_url(problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"{URL_VARIABLE} cannot be used: {problem}.",
        "Use smtp://USER:PASSWORD@HOST:PORT, smtp+starttls://... or smtps://... "
        "(percent-encode special characters in the user and password).",
    )


# ----------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    subject: str
    text: str
    html: str


_templates = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_notice(notice: Notice) -> RenderedNotice:
    """Subject, text body and HTML body of a notice (templates ``notice.txt.j2`` and
    ``notice.html.j2``)."""
    name = notice.connection.name
    default_subject, headline, default_hint = KIND_TEXT.get(notice.kind, _FALLBACK_TEXT)
    zone = notice.connection.timezone
    occurred = notice.occurred_at.astimezone(zone)
    values: dict[str, Any] = {
        "notice": notice,
        "kind": str(notice.kind),
        "name": name,
        "headline": headline.format(name=name),
        "message": notice.message,
        "hint": notice.hint or default_hint.format(name=name),
        "occurred": f"{occurred:%Y-%m-%d %H:%M} {zone.key}",
        "details": {str(key): str(value) for key, value in notice.details.items()},
    }
    subject = notice.subject or default_subject.format(name=name)
    return RenderedNotice(
        subject=" ".join(subject.split()),  # no header injection through a newline
        text=_templates.get_template("notice.txt.j2").render(values),
        html=_templates.get_template("notice.html.j2").render(values),
    )


def compose(notice: Notice, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    rendered = render_notice(notice)
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Ledgersync-Notice"] = str(notice.kind)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# ----------------------------------------------------------------------------- sending


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=settings.tls_context()
        )
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        client.starttls(context=settings.tls_context())
    return client


class EmailNotifier:
    """Sends each notice to its connection's notification addresses (module notes)."""

    name: ClassVar[str] = "email"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        url = env.get(URL_VARIABLE, "").strip()
        self.settings: SmtpSettings | None = SmtpSettings.from_url(url) if url else None
        self.sender = env.get(FROM_VARIABLE, "").strip() or f"ledgersync@{socket.getfqdn()}"

    def __repr__(self) -> str:
        return f"EmailNotifier(settings={self.settings!r}, sender={self.sender!r})"

    def send(self, notice: Notice) -> None:
        testing = notice.kind == NoticeKind.TEST  # a test says why nothing went out
        if self.settings is None:
            if testing:
                raise ConfigurationError(
                    f"{URL_VARIABLE} is not set: no e-mail was sent.",
                    f"Set it, e.g. {URL_VARIABLE}=smtp+starttls://user:pass@mail.example.com.",
                )
            log.debug("%s is not set: %s notice not e-mailed", URL_VARIABLE, notice.kind)
            return
        recipients = tuple(notice.connection.notify_emails)
        if not recipients:
            if testing:
                raise ConfigurationError(
                    f"connection {notice.connection.name} has no notification address.",
                    f"Add one: `ledgersync settings {notice.connection.name} --notify-email ADDR`.",
                )
            log.debug("connection %s has no notification address", notice.connection.name)
            return
        message = compose(notice, self.sender, recipients)
        settings = self.settings
        try:
            with _connect(settings) as client:
                if settings.username:
                    client.login(settings.username, settings.password or "")
                client.send_message(message, from_addr=self.sender, to_addrs=list(recipients))
        except (smtplib.SMTPException, OSError) as error:
            raise TransientError(
                f"the {notice.kind} e-mail for {notice.connection.name} could not be sent via "
                f"{settings.address}: {type(error).__name__}: {error}",
                f"Check {URL_VARIABLE} and that the mail server accepts this sender.",
            ) from None
        log.info(
            "e-mailed the %s notice for %s to %d address(es) via %s",
            notice.kind,
            notice.connection.name,
            len(recipients),
            settings.address,
        )


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(EmailNotifier)
