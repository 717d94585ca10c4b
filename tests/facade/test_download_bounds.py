"""Every way of getting a video (``download``, ``read``, ``iter_bytes``) on both clients keeps its bounds
against a hostile server: the deadline from the first byte of the request, the length the server
announced, errors that are always a ``DownloadError``, and no key in clear anywhere behind one.

Each server is a raw-socket loopback server from ``hostile.py`` playing the API's own origin, so
the key really is sent (the video URL is on that origin).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import qubrid_video as qv
from qubrid_video._http import POOL_LANES

from ..downloading import FLAVOURS, KEY, WAYS, check_failure, clear_key_paths, take
from ..hostile import TRICKLE, VIDEO, hostile, raw_answer

DEADLINE = 2.0
BOUND = DEADLINE + 1  # slack for a loaded machine


def _url(base_url: str) -> str:
    return f"{base_url}/files/video.mp4"


def _own_client(flavour: str) -> httpx.Client | httpx.AsyncClient:
    return httpx.Client() if flavour == "sync" else httpx.AsyncClient()


def _close(http: httpx.Client | httpx.AsyncClient) -> None:
    if isinstance(http, httpx.Client):
        http.close()
    else:
        asyncio.run(http.aclose())


@pytest.mark.parametrize("downloader", ["client", "own-http-client", "detached"])
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_trickled_head_ends_at_the_deadline(flavour: str, way: str, downloader: str, tmp_path: Path) -> None:
    """An answer whose head never ends (a header byte every 0.3 s) ends at the deadline with
    DownloadTimeoutError: through the client's pools, your own ``http_client``, or a detached video."""
    http = _own_client(flavour) if downloader == "own-http-client" else None
    options: dict[str, Any] = {"client_options": {"http_client": http}} if http is not None else {}
    try:
        with hostile(f"trickle_head:{TRICKLE}") as (base_url, recorder):
            url = _url(base_url)
            got = take(flavour, way, base_url, url, tmp_path, detached=downloader == "detached", timeout=DEADLINE,
                       **options)  # fmt: skip
    finally:
        if http is not None:
            _close(http)
    error = check_failure(got, qv.DownloadTimeoutError, url, tmp_path)
    assert "did not finish within 2 s" in str(error)
    assert got.seconds < BOUND
    assert len(recorder.requests) == 1
    assert recorder.header(0, "authorization") == (None if downloader == "detached" else f"Bearer {KEY}")


def _one(video: qv.Video, way: str, path: Path) -> object:
    if way == "download":
        return video.download(path, timeout=DEADLINE)
    return video.read(timeout=DEADLINE) if way == "read" else list(video.iter_bytes(timeout=DEADLINE))


async def _aone(video: qv.AsyncVideo, way: str, path: Path) -> object:
    if way == "download":
        return await video.download(path, timeout=DEADLINE)
    if way == "read":
        return await video.read(timeout=DEADLINE)
    return [chunk async for chunk in video.iter_bytes(timeout=DEADLINE)]


def _until_failure(flavour: str, way: str, base_url: str, url: str, directory: Path) -> tuple[int, Exception, float]:
    """Get the video again and again on one client until it fails: how many times it worked, the error, its duration."""
    if flavour == "sync":
        with qv.Qubrid(api_key=KEY, base_url=base_url) as client:
            video = qv.Video(url=url, created=None, request_id=None, downloader=client.downloader)
            for count in range(POOL_LANES + 2):
                started = time.monotonic()
                try:
                    _one(video, way, directory / f"{count}.mp4")
                except qv.DownloadError as exc:
                    return count, exc, time.monotonic() - started
        raise AssertionError("it never failed")

    async def run() -> tuple[int, Exception, float]:
        async with qv.AsyncQubrid(api_key=KEY, base_url=base_url) as client:
            video = qv.AsyncVideo(url=url, created=None, request_id=None, downloader=client.downloader)
            for count in range(POOL_LANES + 2):
                started = time.monotonic()
                try:
                    await _aone(video, way, directory / f"{count}.mp4")
                except qv.DownloadError as exc:
                    return count, exc, time.monotonic() - started
        raise AssertionError("it never failed")

    return asyncio.run(run())


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_trickled_head_on_a_kept_alive_connection_ends_at_the_deadline(
    flavour: str, way: str, tmp_path: Path
) -> None:
    """A later download on a connection kept alive by an earlier one, whose head now trickles, ends at the deadline.

    The async client takes its pools in turn, so its connection is met again POOL_LANES downloads later.
    """
    with hostile("reused_trickle") as (base_url, recorder):
        worked, error, seconds = _until_failure(flavour, way, base_url, _url(base_url), tmp_path)
    assert type(error) is qv.DownloadTimeoutError, error
    assert seconds < BOUND
    assert worked == (1 if flavour == "sync" else POOL_LANES)
    assert (recorder.connections, len(recorder.requests)) == (worked, worked + 1)  # the last one reused a connection


@pytest.mark.parametrize(
    ("mode", "total", "requests"), [("overlong:length", 100, 1), ("overlong:resume", len(VIDEO), 2)], ids=["length", "resume"]
)  # fmt: skip
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_bytes_past_the_announced_length_are_refused(
    flavour: str, way: str, mode: str, total: int, requests: int, tmp_path: Path
) -> None:
    """A body running past the length its answer announced (a Content-Length beside chunked framing,
    or a resume's Content-Range) is refused as soon as it does, well below max_bytes: nothing saved,
    nothing returned, and iter_bytes() never yields a byte past the announced length."""
    with hostile(mode) as (base_url, recorder):
        url = _url(base_url)
        got = take(flavour, way, base_url, url, tmp_path, max_bytes=2**20, timeout=30)
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert f"more than the {total} bytes it announced" in str(error)
    assert len(recorder.requests) == requests
    if way == "iter":
        assert VIDEO.startswith(got.data)
        assert len(got.data) <= total
    elif way == "read":
        assert got.chunks == []


@pytest.mark.parametrize(
    ("mode", "text", "requests"),
    [
        ("location:http:\\\\127.0.0.1:1/video.mp4", "invalid redirect", 1),
        ("location:http://127.0.0.1:99999/video.mp4", "port", 1),
        ("location:http://127.0.0.1:0/video.mp4", "port", 1),
    ],
    ids=["backslashes", "port-99999", "port-0"],
)
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_redirect_that_cannot_be_followed_is_a_download_error(
    flavour: str, way: str, mode: str, text: str, requests: int, tmp_path: Path
) -> None:
    """A Location httpx parses but cannot join to the URL, or whose port no socket can reach, is a
    DownloadError at once: not an httpx error, an ExceptionGroup, or retries."""
    with hostile(mode) as (base_url, recorder):
        url = _url(base_url)
        error = check_failure(take(flavour, way, base_url, url, tmp_path), qv.DownloadError, url, tmp_path)
    assert text in str(error)
    assert len(recorder.requests) == requests


@pytest.mark.parametrize("port", [0, 65536, 99999])
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_video_url_with_an_impossible_port_is_a_download_error(
    flavour: str, way: str, port: int, tmp_path: Path
) -> None:
    """A video URL whose port is out of range is a DownloadError carrying the URL, before anything is sent."""
    url = f"http://127.0.0.1:{port}/video.mp4"
    with hostile("video") as (base_url, recorder):
        error = check_failure(take(flavour, way, base_url, url, tmp_path), qv.DownloadError, url, tmp_path)
        assert recorder.requests == []
    assert f"port {port} is out of range" in str(error)


_404 = "canned"
KEY_MODES = {
    "gzip": {},  # refused on its head
    "endless": {"max_bytes": 20_000},  # refused in the body, while the answer is being read
    "huge": {"max_bytes": 20_000},  # refused on its announced size
    "redirect_loop": {},  # same origin: httpx's next request for each redirect carries the key
    "location:ftp://127.0.0.1/video.mp4": {},
    _404: {},
}


@pytest.mark.parametrize("mode", sorted(KEY_MODES))
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_no_key_in_clear_is_reachable_from_a_download_error(flavour: str, way: str, mode: str, tmp_path: Path) -> None:
    """Whatever refused the download, nothing reachable from the error (its chain, its traceback's
    frames' locals, and every object they hold, to any depth) holds ``Bearer <key>``."""
    with hostile(mode, answer=raw_answer("404 Not Found", b"")) as (base_url, recorder):
        url = _url(base_url)
        got = take(flavour, way, base_url, url, tmp_path, **KEY_MODES[mode])
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert recorder.header(0, "authorization") == f"Bearer {KEY}"  # the key was sent: there was one to leak
    assert clear_key_paths(error) == []
