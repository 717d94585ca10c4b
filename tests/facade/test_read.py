"""Videos in memory: ``read()`` and ``iter_bytes()``, under download()'s deadline, size cap and key rules.

Each test runs on both clients and both ways (``read``: the whole video; ``iter``: its chunks),
against the emulator or a raw-socket server from ``hostile.py`` playing the API's own origin, so
the key really is sent there and must still show nowhere afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import pickle
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import qubrid_video as qv
from qubrid_video_emulator import Emulator

from ..clients import TINY
from ..downloading import FLAVOURS, KEY, check_failure, fetch, receive
from ..hostile import CHANGED, VIDEO, hostile

HOWS = ["read", "iter"]
DEADLINE = 2.0


def _url(base_url: str) -> str:
    return f"{base_url}/files/video.mp4"


def _generated(emulator: Emulator) -> str:
    """The URL of a video the emulator made (on its CDN origin, not the API's)."""
    with qv.Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        return client.videos.generate(**TINY).url


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_bytes_are_the_served_video_and_the_cdn_gets_no_key(flavour: str, how: str, emulator: Emulator) -> None:
    """The bytes are exactly the file the CDN serves, with progress to its full size, and no key sent there."""
    url = _generated(emulator)
    seen: list[tuple[int, int | None]] = []
    got = receive(flavour, emulator.base_url, url, how, progress=lambda done, total: seen.append((done, total)))
    assert got.error is None, got.error
    assert emulator.downloads()[0].authorization is False
    served = httpx.get(url).content
    assert got.data == served
    assert seen[-1] == (len(served), len(served))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_iter_bytes_gives_chunks_of_the_size_asked(flavour: str) -> None:
    """With chunk_size, every chunk but the last has exactly that size; together they are the video."""
    with hostile("video") as (base_url, _):
        got = receive(flavour, base_url, _url(base_url), "iter", chunk_size=1000)
    assert got.error is None, got.error
    assert got.data == VIDEO
    assert [len(chunk) for chunk in got.chunks] == [1000] * 16 + [len(VIDEO) - 16000]


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_dropped_connection_resumes_after_the_bytes_received(flavour: str, how: str, emulator: Emulator) -> None:
    """Cut twice mid-body, the video resumes with Range and If-Range; no byte is given twice or missed.

    iter_bytes() asks for 1000-byte chunks: bytes received but not yet given when the connection
    drops are asked for again, so the resume starts right after the last byte given.
    """
    url = _generated(emulator)
    emulator.inject("drop_download", count=2, cut_at=0.4)
    got = receive(flavour, emulator.base_url, url, how, **({"chunk_size": 1000} if how == "iter" else {}))
    assert got.error is None, got.error
    downloads = emulator.downloads()
    assert [d.fault for d in downloads] == ["drop_download", "drop_download", None]
    assert [d.status for d in downloads] == [200, 206, 206]
    assert downloads[0].range is None
    assert all(d.range.startswith("bytes=") and d.if_range for d in downloads[1:])
    assert got.data == httpx.get(url).content
    if how == "iter":
        assert {len(chunk) for chunk in got.chunks[:-1]} == {1000}
        offsets = [int(d.range.removeprefix("bytes=").removesuffix("-")) for d in downloads[1:]]
        assert [offset % 1000 for offset in offsets] == [0, 0], offsets  # right after a whole chunk given


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_read_starts_over_where_iter_bytes_refuses_to(flavour: str, tmp_path: Path) -> None:
    """A resume answered with another version of the video: read() starts over and returns the new one;
    iter_bytes(), having yielded the first half already, raises instead of splicing two versions."""
    with hostile("changed:etag") as (base_url, _):
        read = receive(flavour, base_url, _url(base_url), "read")
    assert read.error is None, read.error
    assert read.data == CHANGED["etag"][0]
    with hostile("changed:etag") as (base_url, recorder):
        url = _url(base_url)
        streamed = receive(flavour, base_url, url, "iter")
    error = check_failure(streamed, qv.DownloadError, url, tmp_path)
    assert f"after the {len(VIDEO) // 2} bytes already yielded" in str(error)
    assert streamed.data == VIDEO[: len(VIDEO) // 2]
    assert [recorder.header(i, "range") for i in range(len(recorder.requests))] == [None, f"bytes={len(VIDEO) // 2}-"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_iter_bytes_cannot_resume_without_a_validator(flavour: str, tmp_path: Path) -> None:
    """A body cut short by a server sending no ETag or Last-Modified: the retry starts from byte 0,
    so iter_bytes() raises after what it yielded; the key went to the API's origin and shows nowhere."""
    with hostile("chunked_cut") as (base_url, recorder):
        url = _url(base_url)
        got = receive(flavour, base_url, url, "iter")
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert f"after the {len(VIDEO)} bytes already yielded" in str(error)
    assert got.data == VIDEO
    assert len(recorder.requests) == 2
    assert recorder.header(0, "authorization") == f"Bearer {KEY}"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_read_of_a_body_always_cut_keeps_failing_without_leaking_the_key(flavour: str, tmp_path: Path) -> None:
    """read() retries a body cut every time as download() does, then fails with no trace of the key."""
    with hostile("chunked_cut") as (base_url, recorder):
        url = _url(base_url)
        got = receive(flavour, base_url, url, "read")
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert "kept failing" in str(error)
    assert got.chunks == []
    assert len(recorder.requests) == 6


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_size_cap_stops_an_endless_body(flavour: str, how: str, tmp_path: Path) -> None:
    """A body that never ends is cut at max_bytes with download()'s error: read() returns nothing,
    iter_bytes() never yields past the cap."""
    with hostile("endless") as (base_url, recorder):
        url = _url(base_url)
        got = receive(flavour, base_url, url, how, max_bytes=2**20, timeout=30)
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert "max_bytes=1048576" in str(error)
    assert len(got.data) <= 2**20
    if how == "read":
        assert got.chunks == []
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_announced_size_over_the_cap_is_refused_before_any_byte(flavour: str, how: str, tmp_path: Path) -> None:
    """A Content-Length over max_bytes is refused before a chunk is taken."""
    with hostile("huge") as (base_url, _):
        url = _url(base_url)
        got = receive(flavour, base_url, url, how, max_bytes=2**30)
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert f"{10 * 2**30} bytes, more than max_bytes" in str(error)
    assert got.chunks == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_read_holds_the_video_once_not_twice(flavour: str) -> None:
    """read() of a 32 MiB video allocates little more than the video itself at its peak: one buffer
    grown in place and handed over as the bytes returned, not chunks joined into a second copy.

    The async peak is taken inside the event loop: ``asyncio.run`` itself copies a large result
    for a moment as it hands it back.
    """
    size = 32 * 2**20

    async def aread(url: str) -> tuple[bytes, int]:
        data = await qv.AsyncVideo(url=url, created=None, request_id=None).read(timeout=60)
        return data, tracemalloc.get_traced_memory()[1]

    with hostile("large:32") as (base_url, _):
        tracemalloc.start()
        try:
            if flavour == "sync":
                data = qv.Video(url=_url(base_url), created=None, request_id=None).read(timeout=60)
                peak = tracemalloc.get_traced_memory()[1]
            else:
                data, peak = asyncio.run(aread(_url(base_url)))
        finally:
            tracemalloc.stop()
    assert data == VIDEO * (size // len(VIDEO))
    assert peak < 1.5 * size, f"peak {peak / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB video"


@pytest.mark.parametrize(("how", "default"), [("read", 2 * 2**30), ("iter", 8 * 2**30)])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_read_takes_a_lower_default_size_cap(flavour: str, how: str, default: int, tmp_path: Path) -> None:
    """Without max_bytes, read() refuses a video over 2 GiB (it would sit in memory); iter_bytes() over 8 GiB."""
    with hostile("huge") as (base_url, _):
        url = _url(base_url)
        got = receive(flavour, base_url, url, how)
    error = check_failure(got, qv.DownloadError, url, tmp_path)
    assert f"more than max_bytes={default}" in str(error)


@pytest.mark.parametrize("mode", ["stall", "trickle:1.9"])
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_deadline_bounds_a_body_that_stalls(flavour: str, how: str, mode: str, tmp_path: Path) -> None:
    """A body that stops mid-way, or trickles a byte every 1.9 s, ends at the deadline with DownloadTimeoutError."""
    with hostile(mode) as (base_url, _):
        url = _url(base_url)
        got = receive(flavour, base_url, url, how, timeout=DEADLINE)
    error = check_failure(got, qv.DownloadTimeoutError, url, tmp_path)
    assert isinstance(error, TimeoutError)
    assert got.seconds < DEADLINE + 1
    if how == "iter":  # what arrived before the stall was given, and nothing else
        assert VIDEO.startswith(got.data)
        # The stall's first 100 bytes come with the head; a trickled byte may come just past the deadline.
        assert len(got.data) == 100 if mode == "stall" else len(got.data) <= 1
    else:
        assert got.chunks == []


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_redirect_never_carries_the_key_to_another_origin(flavour: str, how: str) -> None:
    """The API's origin redirects to another port: the key went to the first only; the bytes are the video."""
    with (
        hostile("video") as (elsewhere, thief),
        hostile("redirect", other=elsewhere.removesuffix("/v1")) as (base_url, api),
    ):
        got = receive(flavour, base_url, _url(base_url), how)
    assert got.error is None, got.error
    assert got.data == VIDEO
    assert api.header(0, "authorization") == f"Bearer {KEY}"
    assert thief.header(0, "authorization") is None


@pytest.mark.parametrize(
    ("options", "param", "error"),
    [
        ({"max_bytes": 0}, "max_bytes", qv.InvalidParameterError),
        ({"timeout": "10"}, "timeout", qv.ParameterTypeError),
        ({"progress": "bar"}, "progress", qv.ParameterTypeError),
        ({"chunk_size": 0}, "chunk_size", qv.InvalidParameterError),
        ({"chunk_size": 1.5}, "chunk_size", qv.ParameterTypeError),
    ],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_bad_options_are_refused_at_the_call(
    flavour: str, options: dict[str, Any], param: str, error: type[Exception]
) -> None:
    """A bad option is refused by name when read() or iter_bytes() is called, before any request."""
    with hostile("video") as (base_url, recorder):
        video_type = qv.Video if flavour == "sync" else qv.AsyncVideo
        video = video_type(url=_url(base_url), created=None, request_id=None)
        calls: list[Callable[[], object]] = [lambda: video.iter_bytes(**options)]
        if "chunk_size" not in options:
            calls.append(lambda: asyncio.run(_awaited(video.read(**options))))
        for call in calls:
            with pytest.raises(error) as caught:
                call()  # iter_bytes: no iteration needed
            assert isinstance(caught.value, qv.InvalidParameterError)
            assert caught.value.param == param
        assert recorder.requests == []


async def _awaited(result: Any) -> Any:
    """`result`, awaited when it is awaitable (AsyncVideo.read), as is otherwise (Video.read)."""
    return await result if asyncio.iscoroutine(result) else result


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_download_into_a_file_object_points_to_read(flavour: str, tmp_path: Path) -> None:
    """download(io.BytesIO()) stays a ParameterTypeError on dest, naming read() and iter_bytes(); nothing is sent."""
    with hostile("video") as (base_url, recorder):
        outcome = fetch(flavour, base_url, _url(base_url), io.BytesIO())  # type: ignore[arg-type]
        assert recorder.requests == []
    assert type(outcome.error) is qv.ParameterTypeError
    assert outcome.error.param == "dest"
    assert "read()" in str(outcome.error)
    assert "iter_bytes()" in str(outcome.error)


def test_breaking_out_early_closes_the_connection() -> None:
    """Leaving an iter_bytes() loop early closes its connection: on a pool of one connection, the
    server sees each one end, and later reads still get a connection."""
    with (
        hostile("endless") as (endless, endless_seen),
        hostile("video") as (base_url, _),
        httpx.Client(limits=httpx.Limits(max_connections=1)) as http,
        qv.Qubrid(api_key=KEY, base_url=base_url, http_client=http) as client,
    ):
        for _ in range(3):
            video = qv.Video(url=_url(endless), created=None, request_id=None, downloader=client.downloader)
            for chunk in video.iter_bytes(timeout=5):
                assert chunk
                break
        _wait_for(lambda: endless_seen.ended == 3, "the server to see three connections end")
        video = qv.Video(url=_url(base_url), created=None, request_id=None, downloader=client.downloader)
        assert video.read(timeout=5) == VIDEO


def test_async_breaking_out_early_closes_the_connection() -> None:
    """As for the sync client: after ``break`` (the generator is closed when collected) or with
    ``aclosing``, the connection ends and the one-connection pool serves the next read."""

    async def run() -> bytes:
        async with (
            httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as http,
            qv.AsyncQubrid(api_key=KEY, base_url=base_url, http_client=http) as client,
        ):
            video = qv.AsyncVideo(url=_url(endless), created=None, request_id=None, downloader=client.downloader)
            for _ in range(2):
                async for chunk in video.iter_bytes(timeout=5):
                    assert chunk
                    break
            async with contextlib.aclosing(video.iter_bytes(timeout=5)) as chunks:
                async for _ in chunks:
                    break
            while endless_seen.ended < 3:
                await asyncio.sleep(0.01)  # bounded by wait_for below
            kept = qv.AsyncVideo(url=_url(base_url), created=None, request_id=None, downloader=client.downloader)
            return await kept.read(timeout=5)

    with hostile("endless") as (endless, endless_seen), hostile("video") as (base_url, _):
        assert asyncio.run(asyncio.wait_for(run(), 20)) == VIDEO
        assert endless_seen.ended == 3


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_unpickled_video_reads_without_a_key(flavour: str) -> None:
    """A video pickled and restored keeps its data, holds no key, and reads over a connection of its
    own, sending no key even to the API's own origin."""
    with hostile("video") as (base_url, recorder):
        if flavour == "sync":
            with qv.Qubrid(api_key=KEY, base_url=base_url) as client:
                made = qv.Video(url=_url(base_url), created=None, request_id="r", downloader=client.downloader)
                pickled = pickle.dumps(made)
            data = pickle.loads(pickled).read()
        else:

            async def run() -> tuple[bytes, bytes]:
                async with qv.AsyncQubrid(api_key=KEY, base_url=base_url) as client:
                    made = qv.AsyncVideo(url=_url(base_url), created=None, request_id="r", downloader=client.downloader)
                    pickled = pickle.dumps(made)
                copy = pickle.loads(pickled)
                return pickled, b"".join([chunk async for chunk in copy.iter_bytes()])

            pickled, data = asyncio.run(run())
    copy = pickle.loads(pickled)
    assert (type(copy).__name__, copy.url, copy.request_id, copy.downloader.detached) == (
        "Video" if flavour == "sync" else "AsyncVideo", _url(base_url), "r", True,
    )  # fmt: skip
    assert KEY.encode() not in pickled
    assert data == VIDEO
    assert recorder.header(0, "authorization") is None
