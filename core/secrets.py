"""Encryption of secrets at rest (Fernet): API keys and refresh tokens never sit in clear text.

The key comes from ``LEDGERSYNC_SECRET_KEY``, else from a key file created with mode 0600
beside the database (or in the user's data directory for a server database). Only commands
that store credentials create the key file; the others name the file they looked for.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import SecretKeyError

__all__ = ["KEY_ENV", "SecretBox", "key_file_for"]

KEY_ENV = "LEDGERSYNC_SECRET_KEY"
_NEW_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def key_file_for(database_path: Path | None, fallback_dir: Path) -> Path:
    folder = database_path.parent if database_path else fallback_dir
    return folder / "ledgersync.key"


def _load(path: Path, *, create: bool) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        raise SecretKeyError(
            f"no secret key: {KEY_ENV} is not set and there is no key file at {path}.",
            f"Set {KEY_ENV} or put back the key file the credentials were stored with (a new "
            "key cannot read them; without the old one, connect the accounts again).",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    os.chmod(path, 0o600)
    return key


class SecretBox:
    """Encrypts and decrypts secrets with one Fernet key; ``origin`` says where it came from."""

    def __init__(self, key: bytes, origin: str = "the secret key") -> None:
        self.origin = origin
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{origin} is not a valid Fernet key.",
                f"Make one with {_NEW_KEY}, or put back the key the credentials were stored with.",
            ) from None

    @classmethod
    def from_environment(cls, key_file: Path, *, create: bool = True) -> SecretBox:
        """The key from ``LEDGERSYNC_SECRET_KEY``, else from ``key_file`` (created only when
        ``create``)."""
        configured = os.environ.get(KEY_ENV)
        if configured:
            return cls(configured.strip().encode(), origin=KEY_ENV)
        return cls(_load(key_file, create=create), origin=f"the key file {key_file}")

    @staticmethod
    def describe_origin(key_file: Path) -> str:
        """Which key a box built now would use, for ``status`` (never the key itself)."""
        if os.environ.get(KEY_ENV):
            return f"{KEY_ENV} (environment)"
        return str(key_file) if key_file.exists() else f"{key_file} (missing)"

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"stored credentials cannot be decrypted with {self.origin}.",
                "Use the key they were stored with (`ledgersync status` shows the key in use), "
                "or connect the account again to store them with this key.",
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
