"""Against a hostile server the client fails cleanly, quickly, with a documented exception, and keeps the key."""

from __future__ import annotations

import asyncio
import time

import pytest
import qubrid_video as qv

from .hostile import hostile

KEY = "sk-hostile-test-key"
DEADLINE = 2.0
# The async client's deadline is exact; the sync one may overrun by one read (documented), so the
# bound is twice the deadline plus slack for start-up: a hang would take far longer.
BOUND = 2 * DEADLINE + 3


def _call(flavour: str, base_url: str) -> None:
    if flavour == "sync":
        with qv.Qubrid(api_key=KEY, base_url=base_url) as client:
            client.videos.generate(model="p-video", timeout=DEADLINE)
        return

    async def call() -> None:
        async with qv.AsyncQubrid(api_key=KEY, base_url=base_url) as client:
            await client.videos.generate(model="p-video", timeout=DEADLINE)

    asyncio.run(call())


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("slowloris", qv.APITimeoutError),
        ("phantom_length", qv.APITimeoutError),
        ("silent", qv.APITimeoutError),
        ("endless_headers", qv.APIConnectionError),
        ("gzip_bomb", qv.ResponseValidationError),
        ("retry_after:31536000", qv.RateLimitError),
        ("redirect", qv.APIStatusError),
    ],
)
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_fails_cleanly_within_the_deadline(mode: str, error: type[Exception], flavour: str) -> None:
    """Each misbehaviour ends in its documented exception, within the call's deadline."""
    with hostile(mode) as (base_url, recorder):
        started = time.monotonic()
        with pytest.raises(error) as caught:
            _call(flavour, base_url)
        elapsed = time.monotonic() - started
    assert elapsed < (BOUND if flavour == "sync" else DEADLINE + 3)
    assert KEY not in str(caught.value)
    assert len(recorder.requests) == 1  # none of these is retried


def test_year_long_retry_after_is_reported_not_waited() -> None:
    """A Retry-After of a year is raised at once with its value."""
    with (
        hostile("retry_after:31536000") as (base_url, _),
        qv.Qubrid(api_key=KEY, base_url=base_url) as client,
        pytest.raises(qv.RateLimitError) as caught,
    ):
        client.videos.generate(model="p-video")
    assert caught.value.retry_after == 31536000


def test_garbage_retry_after_falls_back_to_backoff() -> None:
    """A Retry-After that is not a number or a date: retried with backoff, then RateLimitError."""
    with hostile("retry_after:soon-ish") as (base_url, recorder):
        with (
            qv.Qubrid(api_key=KEY, base_url=base_url, max_retries=2) as client,
            pytest.raises(qv.RateLimitError) as caught,
        ):
            client.videos.generate(model="p-video", timeout=30)
        assert len(recorder.requests) == 3
    assert caught.value.retry_after is None


def test_redirect_never_carries_the_key_elsewhere() -> None:
    """A redirect to another host is not followed: the other host never sees a request, let alone the key."""
    with (
        hostile("silent") as (elsewhere, thief),
        hostile("redirect", other=elsewhere.removesuffix("/v1")) as (base_url, _),
    ):
        with qv.Qubrid(api_key=KEY, base_url=base_url) as client, pytest.raises(qv.APIStatusError) as caught:
            client.videos.generate(model="p-video", timeout=DEADLINE)
        assert caught.value.status_code == 307
        assert thief.requests == []
