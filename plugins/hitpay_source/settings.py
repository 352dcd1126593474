"""The non-secret settings of a HitPay connection (``source_config``), validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.api import ConfigurationError

__all__ = ["LIVE_URL", "SANDBOX_URL", "ClientSettings", "check_api_url"]

LIVE_URL = "https://api.hit-pay.com"
SANDBOX_URL = "https://api.sandbox.hit-pay.com"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_api_url(url: str) -> str:
    """A root URL without a trailing slash; plain http only for loopback (stand-ins)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"the HitPay API URL {url!r} is not an http(s) URL.",
            f"Give a root such as {SANDBOX_URL}.",
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigurationError(
            f"the HitPay API URL {url!r} is not https: the API key would travel in clear text.",
            "Use https (plain http is accepted only for 127.0.0.1 and localhost).",
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"the HitPay API URL {url!r} has a query or fragment.")
    return url.strip().rstrip("/")


def _number(config: Mapping[str, Any], name: str, default: float, minimum: float) -> float:
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigurationError(
            f"HitPay setting {name}={value!r} is invalid: expected a number >= {minimum}."
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the client talks to HitPay. Every field has a production default.

    ``attempts`` counts the first try; ``backoff_factor`` seconds double per retry (0 in tests).
    """

    api_url: str = LIVE_URL
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: int = 60
    per_page: int = 100

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClientSettings:
        d = cls()
        return cls(
            api_url=check_api_url(str(config.get("api_url") or LIVE_URL)),
            connect_timeout=_number(config, "connect_timeout", d.connect_timeout, 0.001),
            read_timeout=_number(config, "read_timeout", d.read_timeout, 0.001),
            attempts=int(_number(config, "attempts", d.attempts, 1)),
            backoff_factor=_number(config, "backoff_factor", d.backoff_factor, 0),
            backoff_max=_number(config, "backoff_max", d.backoff_max, 0),
            retry_after_max=int(_number(config, "retry_after_max", d.retry_after_max, 0)),
            per_page=int(_number(config, "per_page", d.per_page, 1)),
        )
