"""HitPay's REST API over requests: authentication, retries, timeouts, cursor pagination.

Every call is a GET with a (connect, read) timeout; 429, 5xx, connection errors and read
timeouts are retried by urllib3's Retry with backoff, honouring ``Retry-After``. Bodies are
parsed with ``parse_float=Decimal`` so no amount ever passes through float. Redirects are not
followed: the API key header must never be replayed to another host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from core.api import AuthorizationFailed, ConfigurationError, LedgersyncError, TransientError
from plugins.hitpay_source.retrying import RETRY_STATUSES, build_retry
from plugins.hitpay_source.settings import ClientSettings

__all__ = ["FALLBACK_PER_PAGE", "ChargeNotFound", "HitPayClient"]

FALLBACK_PER_PAGE = 25  # HitPay's documented default, used if a larger page size is refused
_MAX_PAGES = 100_000


class ChargeNotFound(LedgersyncError):
    """HitPay answered 404 for a charge id."""


class HitPayClient:
    """One business's API key against one HitPay base URL. The key is never in repr or logs."""

    def __init__(
        self,
        api_key: str,
        settings: ClientSettings,
        *,
        on_request: Callable[[], None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._on_request = on_request
        self.per_page = settings.per_page
        self._session = requests.Session()
        self._session.headers.update(
            {
                "X-BUSINESS-API-KEY": api_key,
                "Accept": "application/json",
                "X-Requested-With": "XMLHttpRequest",
                "User-Agent": "ledgersync-hitpay",
            }
        )
        retry = build_retry(
            settings.attempts,
            settings.backoff_factor,
            settings.backoff_max,
            settings.retry_after_max,
            sleep=sleep,
            on_retry=on_request,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"HitPayClient({self._settings.api_url!r}, <key hidden>)"

    @property
    def api_url(self) -> str:
        return self._settings.api_url

    def close(self) -> None:
        self._session.close()

    # -- requests ------------------------------------------------------------------------

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """GET ``/v1/<path>`` and return the parsed JSON, or raise a typed error."""
        url = f"{self._settings.api_url}/v1/{path.lstrip('/')}"
        self._on_request()
        try:
            response = self._session.get(
                url,
                params=list(params),
                timeout=(self._settings.connect_timeout, self._settings.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise TransientError(
                f"HitPay did not answer at {urlsplit(url).netloc} after "
                f"{self._settings.attempts} attempts ({type(error).__name__}).",
                "The next sync tries again; check the network and HitPay's status page.",
            ) from None
        return self._read(response)

    def _read(self, response: requests.Response) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise AuthorizationFailed(
                f"HitPay rejected the API key ({status}): check the key and whether it is a "
                "sandbox or live key",
                "Reconnect with `ledgersync hitpay connect NAME` and a valid key.",
                side="source",
            )
        if status in RETRY_STATUSES:
            raise TransientError(
                f"HitPay kept answering {status} after {self._settings.attempts} attempts.",
                "The next sync tries again.",
            )
        if status == 404:
            raise ChargeNotFound(f"HitPay has no {urlsplit(response.url).path} (404).")
        if 300 <= status < 400:
            raise ConfigurationError(
                f"HitPay answered {status} with a redirect; the API URL "
                f"{self._settings.api_url} looks wrong.",
                "Give the API root, e.g. https://api.sandbox.hit-pay.com.",
            )
        if status != 200:
            raise ConfigurationError(
                f"HitPay refused the request ({status}): {_describe_error(response)}.",
                "This is a bug in the HitPay plugin or a change at HitPay; please report it.",
            )
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise TransientError(
                f"HitPay sent a body that is not valid JSON ({len(response.content)} bytes, "
                f"content type {response.headers.get('Content-Type', 'none')!r}).",
                "The next sync tries again.",
            ) from None

    # -- endpoints -----------------------------------------------------------------------

    def check_key(self) -> None:
        """One cheap authenticated call: raises AuthorizationFailed for a wrong key."""
        self.get("charges", [("per_page", "1")])

    def charge(self, charge_id: str) -> Mapping[str, Any]:
        """``GET /v1/charges/{id}``: the charge with refunded_amount and refunds[]."""
        body = self.get(f"charges/{quote(charge_id, safe='')}")
        if not isinstance(body, Mapping):
            raise TransientError(f"HitPay sent a charge detail for {charge_id} that is no object.")
        return body

    def iter_charges(
        self,
        date_from: date,
        date_to: date,
        statuses: Sequence[str] = (),
    ) -> Iterator[Any]:
        """Every charge listed between two dates (inclusive), following ``meta.next_cursor``."""
        base = [("date_from", date_from.isoformat()), ("date_to", date_to.isoformat())]
        base += [("statuses[]", status) for status in statuses]
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params = [*base, ("per_page", str(self.per_page))]
            if cursor:
                params.append(("cursor", cursor))
            page = self._page(params)
            yield from page["data"]
            cursor = _next_cursor(page)
            if cursor is None:
                return
            if cursor in seen:
                raise TransientError("HitPay repeated a page cursor; stopping to avoid a loop.")
            seen.add(cursor)
        raise TransientError(f"HitPay listed more than {_MAX_PAGES} pages; stopping.")

    def _page(self, params: list[tuple[str, str]]) -> Mapping[str, Any]:
        try:
            page = self.get("charges", params)
        except ConfigurationError as error:
            # The largest per_page is undocumented: fall back to the documented default once.
            if "per_page" not in error.message or self.per_page <= FALLBACK_PER_PAGE:
                raise
            self.per_page = FALLBACK_PER_PAGE
            params = [(k, str(FALLBACK_PER_PAGE) if k == "per_page" else v) for k, v in params]
            page = self.get("charges", params)
        if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
            raise TransientError("HitPay sent a charges page without a data list.")
        return page


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    meta = page.get("meta")
    cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
    return cursor if isinstance(cursor, str) and cursor else None


def _describe_error(response: requests.Response) -> str:
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return f"{len(response.content)} bytes that are not JSON"
    if not isinstance(body, Mapping):
        return "an unexpected body"
    message = str(body.get("message") or "no message")
    errors = body.get("errors")
    if isinstance(errors, Mapping) and errors:
        details = "; ".join(
            f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
            for field, problems in errors.items()
        )
        return f"{message} ({details})"
    return message
