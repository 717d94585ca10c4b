"""When to try a generation again, and how long to wait first.

Money decides: a request is repeated only when the server cannot have started a billable
generation (it could not be reached, or it said "rate limited" or "upstream unavailable"), unless
the caller opted in with ``retry_possibly_billed``. Every attempt of one call carries the same
``Idempotency-Key``, so a server that honours it runs the work once even then.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from typing import NamedTuple

import httpx

# Statuses answered before any work started: the rate limiter, or a gateway that found the
# upstream provider unavailable (503 is not documented, but proxies send it in the same case).
SAFE_STATUSES = frozenset({429, 502, 503})
# Statuses after which the generation may have run: retried only on explicit opt-in.
UNCERTAIN_STATUSES = frozenset({500, 504})
# Transport failures that prove the request never fully reached the server.
SAFE_TRANSPORT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
# How a request fails when it went out on a pooled connection that the server had closed while
# it sat idle: the server's FIN or RST is already on its way, so the failure comes within a
# round trip of the last byte written. Such a request never reached the server's application
# (Go's net/http resends it the same way). A server that read the request and died while
# generating fails later than the window, and stays "may have generated".
CLOSED_WHILE_IDLE_ERRORS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
CLOSED_WHILE_IDLE_WINDOW = 1.0


class RetryPolicy(NamedTuple):
    """How many times, and how patiently, to retry.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        retry_possibly_billed: Also retry failures after which the generation may have run.
        base_delay: First backoff, in seconds; doubles per retry.
        max_delay: Largest backoff between attempts.
        max_retry_after: A server's ``Retry-After`` longer than this is not waited for.
    """

    max_retries: int = 2
    retry_possibly_billed: bool = False
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """Exponential backoff with jitter for the `retry`-th retry (1-based), within [½, 1] of the step."""
        step = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        # Jitter spreads retries in time; it guards nothing, so a plain PRNG is right.
        return step * (0.5 + random.random() / 2)  # noqa: S311  # nosec B311


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP date).

    Garbage, negative or non-finite values count as not said.
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) * scale
        except ValueError:
            parsed = _http_date(raw) if scale == 1.0 else None
            if parsed is None:
                continue
            seconds = parsed - time.time()
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _http_date(value: str) -> float | None:
    import email.utils  # noqa: PLC0415 - rare: only a Retry-After given as a date

    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


class Failure(NamedTuple):
    """A failed attempt as retrying sees it, derived once for both the decision and the error raised.

    Attributes:
        may_have_generated: The generation may have started, so another attempt could bill twice.
        retryable: Another attempt could succeed (a 400 or a 401 never will).
        retry_after: Seconds the server asked to wait (429, 502, 503), when it said.
    """

    may_have_generated: bool
    retryable: bool = True
    retry_after: float | None = None

    @classmethod
    def of_answer(cls, status: int, headers: Mapping[str, str]) -> Failure:
        """An answer with an error status, or a 200 whose body was unusable."""
        safe = status in SAFE_STATUSES
        return cls(
            may_have_generated=(not safe and status >= 500) or status == 200,
            retryable=safe or status in UNCERTAIN_STATUSES or status == 200,
            retry_after=retry_after(headers) if safe else None,
        )

    @classmethod
    def of_error(cls, error: BaseException) -> Failure:
        """No answer: `error` is the transport's."""
        return cls(may_have_generated=not isinstance(error, SAFE_TRANSPORT_ERRORS))


def closed_while_idle(error: BaseException, *, reused: bool, received: int, since_write: float) -> bool:
    """Whether a failed attempt is a request sent on a connection the server had closed while idle.

    Args:
        error: The transport error.
        reused: The request went out on a pooled connection, not one opened for it.
        received: Bytes of answer that had arrived (any byte means the server answered).
        since_write: Seconds from the attempt's last write to the failure.
    """
    return (
        reused
        and received == 0
        and since_write < CLOSED_WHILE_IDLE_WINDOW
        and isinstance(error, CLOSED_WHILE_IDLE_ERRORS)
    )


def next_wait(
    policy: RetryPolicy, retries_done: int, remaining: float, failure: Failure, *, resendable: bool = True
) -> float | None:
    """Seconds to wait before the next attempt, or None when the failure must be raised now.

    Args:
        policy: The client's retry policy.
        retries_done: Retries already made for this call.
        remaining: Seconds left before the call's deadline.
        failure: What the failed attempt means.
        resendable: False when the request body cannot be sent a second time.
    """
    if retries_done >= policy.max_retries or not resendable or not failure.retryable:
        return None
    if failure.may_have_generated and not policy.retry_possibly_billed:
        return None
    asked = failure.retry_after
    if asked is not None and asked > policy.max_retry_after:
        return None
    wait = asked if asked is not None else policy.backoff(retries_done + 1)
    return wait if wait < remaining else None
