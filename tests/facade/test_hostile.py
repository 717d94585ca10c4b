"""Against a hostile server the client fails cleanly, quickly, with a documented exception, and keeps the key."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
import qubrid_video as qv

from ..hostile import TEST_KEY, assert_keyless, calls, hostile

KEY = TEST_KEY
CLIENTS = ["sync", "async"]
DEADLINE = 2.0
# Both clients end a call within its deadline; the second is slack for a loaded machine.
BOUND = DEADLINE + 1


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
@pytest.mark.parametrize("flavour", CLIENTS)
def test_fails_cleanly_within_the_deadline(mode: str, error: type[Exception], flavour: str) -> None:
    """Each misbehaviour ends in its documented exception, within the call's deadline."""
    with hostile(mode) as (base_url, recorder):
        ((caught, elapsed),) = calls(flavour, base_url, timeout=DEADLINE)
    assert isinstance(caught, error)
    assert elapsed < BOUND
    assert_keyless(caught)
    assert len(recorder.requests) == 1  # none of these is retried


@pytest.mark.parametrize("own_client", [False, True], ids=["sdk-pools", "own-http-client"])
@pytest.mark.parametrize("flavour", CLIENTS)
def test_trickled_headers_end_at_the_deadline(flavour: str, own_client: bool) -> None:
    """A header sent one byte every 0.5 s: APITimeoutError within the deadline, the request having
    been sent; on the SDK's own pools and on an ``http_client`` of yours alike."""
    http = (httpx.Client() if flavour == "sync" else httpx.AsyncClient()) if own_client else None
    with hostile("trickle_headers") as (base_url, recorder):
        ((error, elapsed),) = calls(flavour, base_url, timeout=DEADLINE, http_client=http)
    if isinstance(http, httpx.Client):
        http.close()
    elif http is not None:
        asyncio.run(http.aclose())
    assert isinstance(error, qv.APITimeoutError)
    assert "the call's deadline passed" in str(error)
    assert error.may_have_generated is True
    assert_keyless(error)
    assert elapsed < BOUND
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("flavour", CLIENTS)
def test_slowly_read_upload_ends_at_the_deadline(flavour: str, tmp_path: Path) -> None:
    """A 32 MiB upload read at 128 KiB/s: APITimeoutError within the deadline, and it cannot have generated."""
    image = tmp_path / "noise.bin"
    image.write_bytes(os.urandom(32 * 1024 * 1024))
    with hostile("slow_reader") as (base_url, recorder):
        ((error, elapsed),) = calls(flavour, base_url, timeout=DEADLINE, image=image)
    assert isinstance(error, qv.APITimeoutError)
    assert "the call's deadline passed" in str(error)
    assert error.may_have_generated is False
    assert_keyless(error)
    assert elapsed < BOUND
    assert len(recorder.requests) == 1


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
