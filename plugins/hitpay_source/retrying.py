"""urllib3's Retry with an injectable sleep and a hook called before every retried attempt.

The sleep is injectable so tests check backoff and ``Retry-After`` without waiting; the hook
lets every HTTP attempt, retries included, count as one API call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

__all__ = ["RETRY_STATUSES", "CountingRetry", "build_retry"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CountingRetry(Retry):
    """Retry that sleeps through ``sleep`` and calls ``on_retry`` once per extra attempt."""

    def __init__(
        self,
        *args: Any,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[], None] = lambda: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sleep_function = sleep
        self.on_retry = on_retry

    def new(self, **kwargs: Any) -> CountingRetry:
        fresh = super().new(**kwargs)
        assert isinstance(fresh, CountingRetry)
        fresh.sleep_function = self.sleep_function
        fresh.on_retry = self.on_retry
        return fresh

    def increment(self, *args: Any, **kwargs: Any) -> Retry:  # type: ignore[override]
        fresh = super().increment(*args, **kwargs)  # raises MaxRetryError when exhausted
        self.on_retry()
        return fresh

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.respect_retry_after_header and response is not None:
            retry_after = self.get_retry_after(response)
            if retry_after:
                self.sleep_function(min(retry_after, float(self.retry_after_max)))
                return
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleep_function(backoff)


def build_retry(
    attempts: int,
    backoff_factor: float,
    backoff_max: float,
    retry_after_max: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[], None] = lambda: None,
) -> CountingRetry:
    """Retry GETs ``attempts - 1`` times on 429, 5xx, connection errors and read timeouts."""
    retries = max(attempts - 1, 0)
    return CountingRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max,
        retry_after_max=retry_after_max,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        sleep=sleep,
        on_retry=on_retry,
    )
