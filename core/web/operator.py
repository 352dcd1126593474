"""The operator account of the web page: one user, a password hashed with scrypt.

The password is set with ``ledgersync serve --set-password`` (kept hashed in a file with mode
0600 beside the secret key) or given in ``LEDGERSYNC_WEB_PASSWORD`` (hashed in memory at start,
never written). The session signing key comes from ``LEDGERSYNC_WEB_SESSION_KEY`` or a file
of its own created with mode 0600.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import ConfigurationError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "Operator",
    "load_operator",
    "operator_file",
    "save_operator",
    "session_key",
]

PASSWORD_ENV = "LEDGERSYNC_WEB_PASSWORD"
USER_ENV = "LEDGERSYNC_WEB_USER"
SESSION_KEY_ENV = "LEDGERSYNC_WEB_SESSION_KEY"
DEFAULT_USER = "operator"
MIN_PASSWORD_LENGTH = 10
_METHOD = "scrypt"  # werkzeug's default: scrypt with n=2**15, r=8, p=1 and a 16-byte salt


@dataclass(frozen=True, slots=True)
class Operator:
    """Who may log in, and the hash of their password."""

    user: str
    password_hash: str

    def check(self, user: str, password: str) -> bool:
        """True for the right user and password (the hash is checked even for a wrong user,
        so both take the same time)."""
        right = check_password_hash(self.password_hash, password)
        return secrets.compare_digest(user.encode(), self.user.encode()) and right

    @property
    def generation(self) -> str:
        """Changes with the password: a session made before a change stops working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def operator_file(key_file: Path) -> Path:
    return key_file.with_name("ledgersync-web-operator.json")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigurationError(
            f"the password is shorter than {MIN_PASSWORD_LENGTH} characters.",
            "Choose a longer one (a passphrase of a few words is easy to type).",
        )
    return password


def save_operator(key_file: Path, user: str, password: str) -> Operator:
    """Hash ``password`` and keep it for ``user`` (replacing any earlier operator)."""
    if not user.strip():
        raise ConfigurationError("the operator's user name is empty.", "Give one, e.g. operator.")
    operator = Operator(user.strip(), generate_password_hash(check_password(password), _METHOD))
    payload = {"user": operator.user, "password_hash": operator.password_hash}
    _write_private(operator_file(key_file), json.dumps(payload) + "\n")
    return operator


def load_operator(key_file: Path) -> Operator | None:
    """The operator from ``LEDGERSYNC_WEB_PASSWORD`` or from the file; None when neither."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        user = os.environ.get(USER_ENV, DEFAULT_USER).strip() or DEFAULT_USER
        return Operator(user, generate_password_hash(check_password(password), _METHOD))
    path = operator_file(key_file)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Operator(str(data["user"]), str(data["password_hash"]))
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"the operator file {path} is damaged.",
            "Set the password again with `ledgersync serve --set-password`.",
        ) from None


def session_key(key_file: Path) -> bytes:
    """The key that signs session cookies: the environment's, or a file's made on first use."""
    configured = os.environ.get(SESSION_KEY_ENV, "").strip()
    if configured:
        return configured.encode()
    path = key_file.with_name("ledgersync-web-session.key")
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48) + "\n")
    return path.read_text(encoding="utf-8").strip().encode()
