"""Downloads from hostile servers: bounded in time and size, refusing what cannot be verified, keeping the key.

Each server is a raw-socket loopback server from ``hostile.py`` playing the API's own origin, so
the key really is sent (the video URL is on that origin) and must still show nowhere afterwards.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qubrid_video as qv

from ..downloading import FLAVOURS, KEY, check_failure, fetch
from ..hostile import CHANGED, VIDEO, hostile

DEADLINE = 2.0


def _url(base_url: str) -> str:
    # A space, which httpx sends percent-encoded: errors still carry the URL exactly as given.
    return f"{base_url}/files/my video.mp4"


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG during each test; afterwards no record may mention the key."""
    with caplog.at_level(logging.DEBUG):
        yield
    assert [record.getMessage() for record in caplog.records if KEY in record.getMessage()] == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_key_is_nowhere_in_a_failed_same_origin_download(flavour: str, tmp_path: Path) -> None:
    """The key went to the API's origin; the error's chain, its frames' locals and its pickle hold no trace of it."""
    with hostile("chunked_cut") as (base_url, recorder):
        url = _url(base_url)
        error = check_failure(fetch(flavour, base_url, url, tmp_path / "v.mp4"), qv.DownloadError, url, tmp_path)
    assert recorder.header(0, "authorization") == f"Bearer {KEY}"
    assert "kept failing" in str(error)
    assert type(error.__cause__).__name__ == "RemoteProtocolError"  # what failed is still told


@pytest.mark.parametrize(
    ("mode", "where"),
    [("trickle:1.9", "call"), ("trickle:1.9", "client"), ("stall", "call"), ("stall", "client")],
    ids=["trickle-call", "trickle-client", "stall-call", "stall-client"],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_deadline_bounds_the_whole_download(flavour: str, mode: str, where: str, tmp_path: Path) -> None:
    """A byte every 1.9 s, or a read that blocks, ends at the deadline (the call's, else the client's total)."""
    options: dict[str, Any] = {"timeout": DEADLINE} if where == "call" else {}
    client_options = {"timeout": DEADLINE} if where == "client" else {}
    with hostile(mode) as (base_url, _):
        url = _url(base_url)
        outcome = fetch(flavour, base_url, url, tmp_path / "v.mp4", client_options=client_options, **options)
    error = check_failure(outcome, qv.DownloadTimeoutError, url, tmp_path)
    assert isinstance(error, TimeoutError)
    assert "2 s" in str(error)
    assert outcome.seconds < DEADLINE + 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_size_cap_stops_an_endless_body(flavour: str, tmp_path: Path) -> None:
    """A chunked body that never ends is cut at max_bytes: DownloadError, nothing on disk."""
    with hostile("endless") as (base_url, recorder):
        url = _url(base_url)
        outcome = fetch(flavour, base_url, url, tmp_path / "v.mp4", max_bytes=2**20, timeout=30)
    error = check_failure(outcome, qv.DownloadError, url, tmp_path)
    assert "max_bytes=1048576" in str(error)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_announced_size_over_the_cap_is_refused_before_writing(flavour: str, tmp_path: Path) -> None:
    """A Content-Length over max_bytes is refused before the first byte is written."""
    seen: list[int] = []
    with hostile("huge") as (base_url, _):
        url = _url(base_url)
        outcome = fetch(flavour, base_url, url, tmp_path / "v.mp4", max_bytes=2**30,
                        progress=lambda done, total: seen.append(done))  # fmt: skip
    error = check_failure(outcome, qv.DownloadError, url, tmp_path)
    assert f"{10 * 2**30} bytes" in str(error)
    assert seen == []


@pytest.mark.parametrize(
    ("options", "param", "error"),
    [
        ({"timeout": 0}, "timeout", qv.InvalidParameterError),
        ({"timeout": -1.5}, "timeout", qv.InvalidParameterError),
        ({"timeout": math.nan}, "timeout", qv.InvalidParameterError),
        ({"timeout": "10"}, "timeout", qv.ParameterTypeError),
        ({"timeout": True}, "timeout", qv.ParameterTypeError),
        ({"max_bytes": 0}, "max_bytes", qv.InvalidParameterError),
        ({"max_bytes": -1}, "max_bytes", qv.InvalidParameterError),
        ({"max_bytes": 1.5}, "max_bytes", qv.ParameterTypeError),
        ({"max_bytes": None}, "max_bytes", qv.ParameterTypeError),
        ({"max_bytes": True}, "max_bytes", qv.ParameterTypeError),
    ],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_bad_limits_are_refused_by_name(
    flavour: str, options: dict[str, Any], param: str, error: type[Exception], tmp_path: Path
) -> None:
    """A timeout or max_bytes that is not a positive number is refused, named, before any request."""
    with hostile("video") as (base_url, recorder):
        outcome = fetch(flavour, base_url, _url(base_url), tmp_path / "v.mp4", **options)
        assert recorder.requests == []
    assert type(outcome.error) is error
    assert isinstance(outcome.error, qv.InvalidParameterError)
    assert outcome.error.param == param
    assert str(outcome.error).startswith(f"{param}: ")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("change", sorted(CHANGED))
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_resume_of_a_changed_file_starts_over(flavour: str, change: str, tmp_path: Path) -> None:
    """A 206 whose ETag or Content-Range total differs from the first answer is not spliced on: the file restarts."""
    with hostile(f"changed:{change}") as (base_url, recorder):
        outcome = fetch(flavour, base_url, _url(base_url), tmp_path / "v.mp4")
    assert outcome.error is None, outcome.error
    assert outcome.path is not None
    assert outcome.path.read_bytes() == CHANGED[change][0]
    assert [recorder.header(i, "range") for i in range(len(recorder.requests))] == [
        None,
        f"bytes={len(VIDEO) // 2}-",
        None,
    ]
    assert os.listdir(tmp_path) == ["v.mp4"]


@pytest.mark.parametrize(
    ("mode", "text", "requests"),
    [
        ("chunked_cut", "kept failing", 6),
        ("unframed", "neither Content-Length nor chunked", 1),
        ("gzip", "Content-Encoding: gzip", 1),
        ("redirect_loop", "more than 10 redirects", 11),
        ("location:http://[::1", "invalid redirect", 1),
        ("location:ftp://127.0.0.1/video.mp4", "not http(s)", 1),
    ],
    ids=["chunked-cut", "unframed", "gzip", "redirect-loop", "invalid-location", "ftp-location"],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unverifiable_answers_are_refused(flavour: str, mode: str, text: str, requests: int, tmp_path: Path) -> None:
    """What could save a wrong file, or loop, is a DownloadError naming why; retried only when retrying can help."""
    with hostile(mode) as (base_url, recorder):
        url = _url(base_url)
        error = check_failure(fetch(flavour, base_url, url, tmp_path / "v.mp4"), qv.DownloadError, url, tmp_path)
    assert text in str(error)
    assert len(recorder.requests) == requests


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("http://[::1/video.mp4", "not a valid URL"),
        ("ftp://127.0.0.1/video.mp4", "not http(s)"),
        ("file:///etc/passwd", "not http(s)"),
    ],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unusable_video_url_is_a_download_error(flavour: str, url: str, text: str, tmp_path: Path) -> None:
    """A video URL that is invalid or not http(s) is a DownloadError at once, not an httpx error or retries."""
    with hostile("video") as (base_url, recorder):
        error = check_failure(fetch(flavour, base_url, url, tmp_path / "v.mp4"), qv.DownloadError, url, tmp_path)
        assert recorder.requests == []
    assert text in str(error)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_redirect_never_carries_the_key_to_another_origin(flavour: str, tmp_path: Path) -> None:
    """The API's origin redirects the download to another port: the key went to the first, never to the second."""
    with (
        hostile("video") as (elsewhere, thief),
        hostile("redirect", other=elsewhere.removesuffix("/v1")) as (base_url, api),
    ):
        outcome = fetch(flavour, base_url, _url(base_url), tmp_path / "v.mp4")
    assert outcome.error is None, outcome.error
    assert outcome.path is not None
    assert outcome.path.read_bytes() == VIDEO
    assert api.header(0, "authorization") == f"Bearer {KEY}"
    assert len(thief.requests) == 1
    assert thief.header(0, "authorization") is None
