"""Encryption of secrets at rest (Fernet): API keys and refresh tokens never sit in clear text.

The key comes from ``LEDGERSYNC_SECRET_KEY``, else from a key file created with mode 0600
beside the database (or in the user's data directory for a server database).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import SecretKeyError

__all__ = ["SecretBox", "key_file_for"]

KEY_ENV = "LEDGERSYNC_SECRET_KEY"


def key_file_for(database_path: Path | None, fallback_dir: Path) -> Path:
    folder = database_path.parent if database_path else fallback_dir
    return folder / "ledgersync.key"


def _load_or_create(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    os.chmod(path, 0o600)
    return key


class SecretBox:
    """Encrypts and decrypts secrets with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                "the secret key is not a valid Fernet key.",
                f"Set {KEY_ENV} to a key made by `ledgersync secret-key` or remove it.",
            ) from None

    @classmethod
    def from_environment(cls, key_file: Path) -> SecretBox:
        configured = os.environ.get(KEY_ENV)
        if configured:
            return cls(configured.strip().encode())
        return cls(_load_or_create(key_file))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with this secret key.",
                f"Use the key they were stored with ({KEY_ENV} or the key file beside the "
                "database), or reconnect the account to store them again.",
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
