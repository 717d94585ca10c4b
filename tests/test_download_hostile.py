"""Downloads from hostile servers: the key goes to the API's origin only, and shows in no failure.

Each server is a raw-socket loopback server from ``hostile.py`` playing the API's own origin, so
the key really is sent (the video URL is on that origin) and must still show nowhere afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import qubrid_video as qv

from .downloading import FLAVOURS, KEY, check_failure, fetch
from .hostile import VIDEO, hostile


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
