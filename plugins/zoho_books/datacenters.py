"""Zoho's datacenters: where a user's accounts (OAuth) server and Books API live.

Every root can be overridden (sandbox, proxy, stand-in). Roots are given without a path:
the accounts root gets ``/oauth/v2/...`` appended, the API root ``/books/v3/...``, the same
form as the token response's ``api_domain`` (which, when present, is the truth).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.api import ConfigurationError

__all__ = ["DATACENTERS", "Datacenter", "Endpoints", "endpoints_for", "is_known_accounts_root"]


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True)
class Datacenter:
    code: str
    label: str
    accounts_url: str
    api_url: str


DATACENTERS: dict[str, Datacenter] = {
    dc.code: dc
    for dc in (
        Datacenter("com", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        Datacenter("eu", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        Datacenter("in", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        Datacenter(
            "com.au", "Australia", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"
        ),
        Datacenter("jp", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        # Canada's accounts server is zohocloud.ca, not zoho.ca.
        Datacenter("ca", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        Datacenter(
            "com.cn", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"
        ),
        Datacenter("sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        # Zoho's OAuth multi-DC page lists the UK accounts server; public Books and Zoho API
        # clients pair it with www.zohoapis.uk (docs/vendor-facts.md, zoho.datacenters.uk_ae).
        Datacenter("uk", "United Kingdom", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
    )
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The two roots one connection talks to."""

    accounts_url: str
    api_url: str

    @property
    def books_url(self) -> str:
        return f"{self.api_url}/books/v3"


def _root(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{option} {url!r} is not a URL root.",
            f"Give a root such as https://accounts.zoho.eu for {option}.",
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigurationError(
            f"{option} {url!r} is not https: the client secret and tokens would travel in "
            "clear text.",
            "Use https (plain http is accepted only for 127.0.0.1, ::1 and localhost).",
        )
    if parts.path.strip("/"):
        raise ConfigurationError(
            f"{option} {url!r} has a path ({parts.path}); give the root only.",
            "The client appends /oauth/v2/... or /books/v3/... itself.",
        )
    return f"{parts.scheme}://{parts.netloc}"


def endpoints_for(
    datacenter: str, *, accounts_url: str | None = None, api_url: str | None = None
) -> Endpoints:
    """The roots for ``datacenter``, each overridable."""
    try:
        dc = DATACENTERS[datacenter.strip().lower().lstrip(".")]
    except KeyError:
        known = ", ".join(DATACENTERS)
        raise ConfigurationError(
            f"unknown Zoho datacenter {datacenter!r}.",
            f"Use one of {known}: it is the domain you log in to, e.g. books.zoho.eu is eu.",
        ) from None
    return Endpoints(
        accounts_url=_root(accounts_url, "--accounts-url") if accounts_url else dc.accounts_url,
        api_url=_root(api_url, "--api-url") if api_url else dc.api_url,
    )


def is_known_accounts_root(url: str) -> bool:
    """True when ``url`` is one of the datacenters' accounts servers."""
    return url.rstrip("/") in {dc.accounts_url for dc in DATACENTERS.values()}
