"""Retries, counted at the emulator: only what cannot have been billed, one key per call, within the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from qubrid_video import (
    APIConnectionError,
    BackendUnavailableError,
    GenerationTimeoutError,
    InternalServerError,
    RateLimitError,
)
from qubrid_video._retry import Failure, RetryPolicy, next_wait, retry_after
from qubrid_video_emulator import Emulator

from ..clients import FLAVOURS, TINY, Either


@pytest.fixture(params=FLAVOURS)
def new_client(request: pytest.FixtureRequest, emulator: Emulator) -> Callable[..., Either]:
    """Makes clients for the emulator: each test runs with Qubrid, then with AsyncQubrid."""

    def make(**options: Any) -> Either:
        return Either(request.param, api_key=emulator.api_key, base_url=emulator.base_url, **options)

    return make


def _keys(emulator: Emulator) -> list[str]:
    return [entry.idempotency_key for entry in emulator.requests()]


@pytest.mark.parametrize("kind", ["429", "502"])
def test_safe_failures_are_retried_with_one_idempotency_key(
    new_client: Callable[..., Either], emulator: Emulator, kind: str
) -> None:
    """429 and 502 are retried; every attempt carries the same Idempotency-Key; one generation results."""
    emulator.inject(kind, count=2, retry_after=0.05)
    with new_client() as either:
        video = either.generate(**TINY)
    keys = _keys(emulator)
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert keys[0].startswith("qv-")
    assert emulator.generations == 1
    assert video.request_id == emulator.requests()[-1].request_id


def test_retries_stop_at_max_retries(new_client: Callable[..., Either], emulator: Emulator) -> None:
    """max_retries bounds the attempts; then the last error is raised."""
    emulator.inject("502", count=5)
    with new_client(max_retries=1) as either, pytest.raises(BackendUnavailableError):
        either.generate(**TINY)
    assert len(emulator.requests()) == 2


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("500", InternalServerError),
        ("504", GenerationTimeoutError),
        ("drop_mid", APIConnectionError),
        ("drop_before", APIConnectionError),
    ],
)
def test_possibly_billed_failures_are_not_retried(
    new_client: Callable[..., Either], emulator: Emulator, kind: str, error: type
) -> None:
    """500, 504 and connections lost after sending are raised at once, saying they may have been billed."""
    emulator.inject(kind)
    with new_client() as either, pytest.raises(error, match="may have run and been billed"):
        either.generate(**TINY)
    assert len(emulator.requests()) == 1


def test_opt_in_retries_possibly_billed_failures_without_billing_twice(
    new_client: Callable[..., Either], emulator: Emulator
) -> None:
    """With retry_possibly_billed, a cut answer is retried and the emulator replays the one generation."""
    emulator.inject("drop_mid")
    with new_client(retry_possibly_billed=True) as either:
        first = either.generate(**TINY)
    assert [e.outcome for e in emulator.requests()] == ["generated", "replayed"]
    assert emulator.generations == 1
    assert first.url
    emulator.inject("500")
    with new_client(retry_possibly_billed=True) as either:
        either.generate(**{**TINY, "prompt": "next"})
    assert emulator.requests()[2].outcome == "fault:500"
    assert len(set(_keys(emulator)[2:])) == 1


def test_caller_chosen_idempotency_key(new_client: Callable[..., Either], emulator: Emulator) -> None:
    """An Idempotency-Key in extra_headers (any spelling) replaces the SDK's; one header is sent."""
    with new_client() as either:
        either.generate(**TINY, extra_headers={"idempotency-key": "mine-1"})
        either.generate(**TINY, extra_headers={"Idempotency-Key": "mine-1"})
    assert _keys(emulator) == ["mine-1", "mine-1"]
    assert emulator.generations == 1


def test_retry_after_is_honoured(new_client: Callable[..., Either], emulator: Emulator) -> None:
    """The wait before a retry is the server's Retry-After (not the shorter backoff)."""
    emulator.inject("429", retry_after=0.6)
    with new_client() as either:
        either.generate(**TINY)
    first, second = emulator.requests()
    assert second.time - first.time >= 0.6


def test_retry_after_beyond_the_cap_fails_fast(new_client: Callable[..., Either], emulator: Emulator) -> None:
    """A Retry-After longer than the cap (60 s) is not waited for: RateLimitError at once, with the value."""
    emulator.inject("429", retry_after=3600)
    with new_client() as either, pytest.raises(RateLimitError) as caught:
        either.generate(**TINY)
    assert caught.value.retry_after == 3600
    assert len(emulator.requests()) == 1


def test_deadline_bounds_attempts_and_waits(new_client: Callable[..., Either], emulator: Emulator) -> None:
    """The call's total timeout stops retrying when the next wait would pass it."""
    emulator.inject("429", count=10, retry_after=0.4)
    started = time.monotonic()
    with new_client(max_retries=10) as either, pytest.raises(RateLimitError):
        either.generate(**TINY, timeout=1.0)
    assert len(emulator.requests()) <= 3
    assert time.monotonic() - started < 5  # bounded by the deadline, not by ten retries


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "garbage"}, None),
        ({"retry-after": "-4"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    """Seconds, milliseconds and HTTP dates are understood; garbage, negatives and NaN are ignored."""
    value = retry_after(httpx.Headers(headers))
    if expected == 0.0:
        assert value is None or value == 0.0 or value < 0  # a past date: nothing to wait
    else:
        assert value == expected


def test_retry_decisions() -> None:
    """The policy: what is retried by default, what only on opt-in, and never past the deadline."""
    policy, billed = RetryPolicy(max_retries=2), RetryPolicy(max_retries=2, retry_possibly_billed=True)
    connect = Failure.of_error(httpx.ConnectError("refused"))
    read = Failure.of_error(httpx.ReadError("reset"))

    def status(code: int, headers: dict[str, str] | None = None) -> Failure:
        return Failure.of_answer(code, httpx.Headers(headers or {}))

    assert next_wait(policy, 0, 100, status(429, {"retry-after": "1"})) == 1.0
    assert next_wait(policy, 0, 100, status(502)) is not None
    assert next_wait(policy, 0, 100, connect) is not None
    for code in (400, 401, 402, 403, 404, 500, 504, 200):
        assert next_wait(policy, 0, 100, status(code)) is None, code
    assert next_wait(policy, 0, 100, read) is None
    assert next_wait(billed, 0, 100, status(500)) is not None
    assert next_wait(billed, 0, 100, read) is not None
    assert next_wait(billed, 0, 100, status(400)) is None
    assert next_wait(policy, 2, 100, status(502)) is None
    assert next_wait(policy, 0, 0.1, status(429, {"retry-after": "5"})) is None
    assert next_wait(policy, 0, 100, status(502), resendable=False) is None


def test_failure_is_derived_once_for_the_decision_and_the_error() -> None:
    """What an answer means (billing, Retry-After) is read once and both the retry and the error use it."""
    failure = Failure.of_answer(429, httpx.Headers({"retry-after": "7"}))
    assert (failure.may_have_generated, failure.retryable, failure.retry_after) == (False, True, 7.0)
    assert Failure.of_answer(504, httpx.Headers()).may_have_generated
    assert not Failure.of_answer(400, httpx.Headers()).retryable
    assert not Failure.of_error(httpx.ConnectTimeout("slow")).may_have_generated
