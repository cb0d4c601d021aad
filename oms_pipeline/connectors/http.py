"""The one HTTP policy every connector uses: httpx clients with explicit timeouts, and one retry rule.

Retries go through tenacity (not a hand loop): 429, 5xx, timeouts and dropped connections are
retried with exponential backoff and jitter, except that a server's ``Retry-After`` (or a
throttle wait the connector computed) is honoured exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524})


class TransientHTTPError(Exception):
    """A failure worth trying again, with how long the server asked us to wait (if it said)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when the server sent a numeric one."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def raise_for_transient(response: httpx.Response) -> None:
    """Turn a retryable status into ``TransientHTTPError``; leave others to the caller."""
    if response.status_code in RETRYABLE_STATUS:
        raise TransientHTTPError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}",
            status=response.status_code,
            retry_after=retry_after_seconds(response),
        )


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransientHTTPError | httpx.TimeoutException | httpx.TransportError)


class _HonourRetryAfter:
    """Wait what the server asked for; otherwise back off exponentially with jitter."""

    def __init__(self, initial: float, maximum: float):
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientHTTPError) and exc.retry_after is not None:
            return exc.retry_after
        return self._backoff(state)


def retrying(
    max_attempts: int,
    *,
    initial_backoff_s: float = 0.25,
    max_backoff_s: float = 20.0,
    sleep: Callable[[float], None] | None = None,
    on_retry: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """The retry policy: ``for attempt in retrying(n): with attempt: ...``."""
    kwargs: dict[str, Any] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep

    def _log(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("retrying after %s (attempt %d)", exc or "failure", state.attempt_number)
        if on_retry:
            on_retry(state)

    return Retrying(
        stop=stop_after_attempt(max_attempts),
        wait=_HonourRetryAfter(initial_backoff_s, max_backoff_s),
        retry=retry_if_exception(_is_retryable),
        before_sleep=_log,
        reraise=True,
        **kwargs,
    )


def build_client(
    base_url: str,
    *,
    headers: dict[str, str],
    timeout_s: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client with base URL, headers and explicit timeouts; tests inject ``transport``."""
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": "oms-pipeline/0.1", **headers},
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        transport=transport,
    )
