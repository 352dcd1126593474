"""The Books API client: envelope, errors, limits, retries and call counting.

Rules, from Zoho's behaviour:
- every response is ``{"code": 0, "message": ..., <key>: ...}``; ``code != 0`` is an error;
- a POST or PUT whose outcome is unknown (timeout, dropped connection, 5xx) is never resent
  here: it raises DeliveryUncertain and the caller looks the document up by key first;
- a GET is retried with back-off;
- 401 / code 57 refreshes the access token once, then the connection has failed;
- code 44 (per-minute limit) and any other 429 (undocumented codes too) wait a window, code
  1070 (concurrency) backs off briefly;
- the daily quota: ``X-Rate-Limit-Remaining`` 0 on any answer, or code 45, pauses the run for
  ``X-Rate-Limit-Reset`` seconds (zoho.rate_limit.headers_daily), else until the next UTC day;
  a missing header is unknown, never 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import requests

from core.api import (
    ApiCallCounter,
    AuthorizationFailed,
    DailyLimitReached,
    DeliveryUncertain,
    DocumentRejected,
    QuotaObserver,
    TransientError,
)
from plugins.zoho_books.clock import Clock
from plugins.zoho_books.jsonnum import dumps, loads
from plugins.zoho_books.limiter import SlidingWindowLimiter
from plugins.zoho_books.oauth import RECONNECT_HINT
from plugins.zoho_books.tokens import TokenSource

log = logging.getLogger(__name__)

__all__ = ["BooksClient", "BooksRejected", "RetryPolicy", "next_utc_midnight"]

AUTH_CODES = {14, 57}
PER_MINUTE_LIMIT = 44
DAILY_LIMIT = 45
CONCURRENCY_LIMIT = 1070
NOT_FOUND = 1002
ORGANIZATION_NOT_REACHABLE = 6041  # "This user is not associated with the CompanyID/..."


class BooksRejected(DocumentRejected):
    """Zoho refused a request with a business error (``code`` is Zoho's error code)."""

    def __init__(self, message: str, hint: str = "", *, code: int, status: int) -> None:
        super().__init__(message, hint)
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    get_backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    concurrency_backoff: tuple[float, ...] = (1.0, 2.0, 4.0)
    rate_limit_waits: int = 3
    window: float = 60.0


def next_utc_midnight(now: datetime) -> datetime:
    """When Zoho's daily allowance starts again (the next UTC day)."""
    day = now.astimezone(UTC).date()
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


class _Retry(Exception):
    """Internal: try the same request again after ``wait`` seconds."""

    def __init__(self, wait: float, reason: str) -> None:
        self.wait = wait
        self.reason = reason


class BooksClient:
    """Requests to ``{api}/books/v3`` for one organization."""

    def __init__(
        self,
        books_url: str,
        organization_id: str,
        tokens: TokenSource,
        *,
        calls: ApiCallCounter,
        limiter: SlidingWindowLimiter,
        clock: Clock,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        connection_name: str = "NAME",
    ) -> None:
        self.books_url = books_url.rstrip("/")
        self.organization_id = organization_id
        self._tokens = tokens
        self._calls = calls
        self._limiter = limiter
        self._clock = clock
        self._session = session or requests.Session()
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._connection_name = connection_name
        self._quota_resumes: datetime | None = None  # the daily quota is spent until then

    def __repr__(self) -> str:
        return f"BooksClient({self.books_url!r}, organization={self.organization_id!r})"

    # -- verbs ---------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.request("POST", path, params=params, body=body, headers=headers)

    def put(
        self,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.request("PUT", path, params=params, body=body, headers=headers)

    def list_all(
        self, path: str, key: str | tuple[str, ...], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a list endpoint, page by page (200 a page).

        ``key`` may name several list keys where the evidence disagrees (customer payments:
        ``customerpayments`` live, ``customer_payments`` in the OpenAPI document); the first one
        present is read. An answer with none of them is an error, never an empty list: a
        look-up that cannot read the list must not conclude "not there"."""
        keys = (key,) if isinstance(key, str) else key
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, {**(params or {}), "page": page, "per_page": 200})
            found = next((name for name in keys if name in body), None)
            if found is None:
                raise TransientError(
                    f"GET {path}: Zoho Books answered without the list "
                    f"({' or '.join(keys)}); it holds {', '.join(sorted(body)) or 'nothing'}.",
                    "Nothing was assumed missing; the next sync looks again.",
                )
            rows.extend(body.get(found) or [])
            if not (body.get("page_context") or {}).get("has_more_page"):
                return rows
            page += 1

    # -- the one request loop --------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        with_organization: bool = True,
    ) -> dict[str, Any]:
        query = dict(params or {})
        if with_organization:
            query["organization_id"] = self.organization_id
        data = dumps(body) if body is not None else None
        state = {"refreshed": False, "get_retries": 0, "rate_waits": 0, "busy_retries": 0}
        while True:
            try:
                return self._attempt(method, path, query, data, headers, state)
            except _Retry as retry:
                self._clock.sleep(retry.wait)

    def _attempt(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        data: str | None,
        extra_headers: Mapping[str, str] | None,
        state: dict[str, Any],
    ) -> dict[str, Any]:
        self._check_quota()
        self._limiter.acquire()
        headers = {"Authorization": f"Zoho-oauthtoken {self._tokens.current()}"}
        if data is not None:
            headers["Content-Type"] = "application/json;charset=UTF-8"
        headers.update(extra_headers or {})
        url = f"{self.books_url}{path}"
        what = f"{method} {path}"
        self._calls.count()
        try:
            response = self._session.request(
                method, url, params=query, data=data, headers=headers, timeout=self._timeout
            )
        except requests.ConnectTimeout:
            # never connected: nothing was sent, any verb may be tried again
            raise self._network_retry(state, what, "connect timeout") from None
        except (requests.Timeout, requests.ConnectionError) as error:
            if method != "GET":
                raise DeliveryUncertain(
                    f"{what} to Zoho Books got no answer ({type(error).__name__}); it may have "
                    "been recorded.",
                    "The next attempt looks it up by reference before sending it again.",
                ) from None
            raise self._network_retry(state, what, type(error).__name__) from None
        return self._answer(method, what, response, state)

    def _check_quota(self) -> None:
        resume = self._quota_resumes
        if resume is None:
            return
        if self._clock.now() >= resume:
            self._quota_resumes = None
            return
        raise DailyLimitReached(
            "paused: daily API limit reached",
            "Zoho Books said the organization has no API calls left today "
            f"(X-Rate-Limit-Remaining 0). The sync resumes after {resume:%Y-%m-%d %H:%M} UTC; "
            "nothing is lost.",
            resume_after=resume,
        )

    def _quota_reset(self, response: requests.Response) -> datetime:
        """When the daily quota comes back: X-Rate-Limit-Reset seconds from now when given."""
        now = self._clock.now()
        try:
            seconds = int(response.headers.get("X-Rate-Limit-Reset") or "")
        except ValueError:
            return next_utc_midnight(now)
        if seconds <= 0:
            return next_utc_midnight(now)
        return (now + timedelta(seconds=seconds)).astimezone(UTC)

    def _note_quota(self, response: requests.Response) -> None:
        try:
            remaining = int(response.headers.get("X-Rate-Limit-Remaining") or "")
        except ValueError:
            return  # absent or unreadable: unknown, never 0
        if isinstance(self._calls, QuotaObserver):
            try:
                limit = int(response.headers.get("X-Rate-Limit-Limit") or "")
            except ValueError:
                limit = None
            if limit is not None and limit > 0:
                reset = self._quota_reset(response)
                self._calls.note_quota(limit, max(0, remaining), reset)
        if remaining <= 0:
            self._quota_resumes = self._quota_reset(response)

    def _network_retry(self, state: dict[str, Any], what: str, reason: str) -> Exception:
        backoff = self._retry.get_backoff
        if state["get_retries"] >= len(backoff):
            return TransientError(
                f"{what} to Zoho Books failed {state['get_retries'] + 1} times ({reason}).",
                "Zoho Books may be down; the next sync tries again.",
            )
        wait = backoff[state["get_retries"]]
        state["get_retries"] += 1
        return _Retry(wait, reason)

    def _answer(
        self, method: str, what: str, response: requests.Response, state: dict[str, Any]
    ) -> dict[str, Any]:
        status = response.status_code
        self._note_quota(response)
        try:
            body = loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        code = body.get("code")
        message = str(body.get("message") or f"HTTP {status}")
        if status >= 500:
            if method != "GET":
                raise DeliveryUncertain(
                    f"{what}: Zoho Books answered HTTP {status} ({message}); the request may "
                    "have been recorded.",
                    "The next attempt looks it up by reference before sending it again.",
                )
            raise self._network_retry(state, what, f"HTTP {status}")
        if status == 401 or code in AUTH_CODES:
            if not state["refreshed"]:
                state["refreshed"] = True
                self._tokens.refresh()
                raise _Retry(0.0, "access token refreshed")
            raise AuthorizationFailed(
                f"Zoho Books refused the connection's authorization ({message}).",
                RECONNECT_HINT.format(name=self._connection_name),
                side="destination",
            )
        if code == DAILY_LIMIT:
            resume = self._quota_reset(response)
            raise DailyLimitReached(
                "paused: daily API limit reached",
                f"Zoho Books said: {message} The sync resumes after {resume:%Y-%m-%d %H:%M} UTC;"
                " nothing is lost.",
                resume_after=resume,
            )
        if code == CONCURRENCY_LIMIT:
            backoff = self._retry.concurrency_backoff
            if state["busy_retries"] < len(backoff):
                wait = backoff[state["busy_retries"]]
                state["busy_retries"] += 1
                raise _Retry(wait, "too many concurrent requests")
            raise TransientError(
                f"{what}: Zoho Books is busy with other requests of this organization (1070).",
                "Another program may be using the same organization; the next sync tries again.",
            )
        if code == PER_MINUTE_LIMIT or status == 429:
            if state["rate_waits"] < self._retry.rate_limit_waits:
                state["rate_waits"] += 1
                if code != PER_MINUTE_LIMIT:
                    log.warning("%s: HTTP 429 with code %s; waiting a window", what, code)
                raise _Retry(self._window_wait(response), "per-minute limit")
            raise TransientError(
                f"{what}: Zoho Books kept refusing requests over its per-minute limit.",
                "Lower requests_per_minute for this connection; the next sync tries again.",
            )
        if code == ORGANIZATION_NOT_REACHABLE:
            # The connection's organization, not one document: never a document rejection.
            raise AuthorizationFailed(
                f"Zoho Books says this Zoho user cannot reach organization "
                f"{self.organization_id} ({message}).",
                RECONNECT_HINT.format(name=self._connection_name)
                + " Pick an organization this Zoho user belongs to.",
                side="destination",
            )
        if 200 <= status < 300 and code == 0:
            return body
        if 200 <= status < 300 and code is None:
            raise TransientError(f"{what}: Zoho Books answered without a result code.")
        raise BooksRejected(
            f"Zoho Books refused {what}: {message} (code {code}).",
            "",
            code=int(code) if isinstance(code, int) else -1,
            status=status,
        )

    def _window_wait(self, response: requests.Response) -> float:
        """A whole per-minute window: X-Rate-Limit-Reset counts the daily quota, not the
        minute (zoho.rate_limit.headers_daily), and no Retry-After is documented."""
        return self._retry.window
