"""The worker's and beat's configuration, from the environment (no Celery import here)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigurationError

__all__ = ["DEFAULT_BROKER_URL", "WorkerSettings"]

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def _seconds(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(
            f"{name}={raw!r} is not a positive whole number of seconds.",
            f"Set {name} to e.g. {default}, or unset it for the default.",
        )
    return value


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything a worker or beat process needs besides the store's secret key.

    ``db_url`` None means the store's own default (``LEDGERSYNC_DB`` or the SQLite file in
    the user's data directory). ``claims_url`` is the Redis that remembers which due syncs
    were enqueued; it defaults to the broker when the broker is Redis.
    """

    broker_url: str = DEFAULT_BROKER_URL
    db_url: str | None = None
    queue: str = "ledgersync"
    key_prefix: str = "ledgersync:"
    claims_url: str | None = None
    beat_seconds: int = 60
    claim_seconds: int = 3600
    visibility_timeout: int = 3600

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        env = os.environ if environ is None else environ
        broker = env.get("LEDGERSYNC_BROKER_URL") or DEFAULT_BROKER_URL
        claims = env.get("LEDGERSYNC_CLAIMS_URL") or None
        if claims is None and broker.startswith(("redis://", "rediss://", "unix://")):
            claims = broker
        return cls(
            broker_url=broker,
            db_url=env.get("LEDGERSYNC_DB") or None,
            queue=env.get("LEDGERSYNC_QUEUE") or "ledgersync",
            key_prefix=env.get("LEDGERSYNC_KEY_PREFIX") or "ledgersync:",
            claims_url=claims,
            beat_seconds=_seconds(env, "LEDGERSYNC_BEAT_SECONDS", 60),
            claim_seconds=_seconds(env, "LEDGERSYNC_CLAIM_SECONDS", 3600),
            visibility_timeout=_seconds(env, "LEDGERSYNC_VISIBILITY_TIMEOUT", 3600),
        )

    def require_claims_url(self) -> str:
        if self.claims_url is None:
            raise ConfigurationError(
                "beat needs a Redis to remember which due syncs it enqueued, and the broker "
                f"({self.broker_url.split('://')[0]}) is not Redis.",
                "Set LEDGERSYNC_CLAIMS_URL=redis://HOST:6379/0.",
            )
        return self.claims_url
