"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts.

It listens on a socket bound to port 0 before it starts (no port guessing, no race), can
require a login, and can speak STARTTLS or TLS from the first byte with a certificate from
:mod:`support.tls`.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())  # type: ignore[attr-defined]
        raise AssertionError(f"no {content_type} part in {self.message['Subject']!r}")


@dataclass
class Mailbox:
    """The aiosmtpd handler: accepts everything, keeps it."""

    received: list[ReceivedMail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            ReceivedMail(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


class PasswordCheck:
    """An aiosmtpd authenticator accepting one user name and password."""

    def __init__(self, mailbox: Mailbox, username: str, password: str) -> None:
        self.mailbox = mailbox
        self.username = username
        self.password = password

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        if (login, password) != (self.username, self.password):
            return AuthResult(success=False, handled=False)
        self.mailbox.logins.append(login)
        return AuthResult(success=True)


class MailServer(Controller):
    """``with MailServer(...) as server:``; ``server.port``, ``server.mailbox.received``."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self._socket = socket.create_server(("127.0.0.1", 0))
        options: dict[str, Any] = {"auth_require_tls": starttls is not None}
        if username is not None:
            check = PasswordCheck(self.mailbox, username, password or "")
            options.update(authenticator=check, auth_required=True)
        if starttls is not None:
            options.update(tls_context=starttls, require_starttls=True)
        super().__init__(
            self.mailbox,
            hostname="127.0.0.1",
            port=self._socket.getsockname()[1],
            ssl_context=implicit_tls,
            **options,
        )

    def _create_server(self) -> Awaitable[Any]:
        return self.loop.create_server(
            self._factory_invoker, sock=self._socket, ssl=self.ssl_context
        )

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
