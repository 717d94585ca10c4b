"""Video downloads: resumed, atomic, never clobbering, never leaving debris, never leaking the key."""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from qubrid_video import (
    AsyncQubrid,
    DestinationExistsError,
    DownloadError,
    InvalidParameterError,
    ParameterTypeError,
    Qubrid,
    Video,
)
from qubrid_video._staging import safe_name
from qubrid_video_emulator import Emulator, EmulatorConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..conftest import serve_app
from ..downloading import FLAVOURS, fetch
from ..hostile import VIDEO, hostile

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1"}


def _served(video: Video) -> bytes:
    return httpx.get(video.url).content


def test_download_to_a_file_path(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """The file appears whole at the path, with progress reported up to the full size."""
    video = client.videos.generate(**TINY)
    seen: list[tuple[int, int | None]] = []
    path = video.download(tmp_path / "out.mp4", progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "out.mp4"
    assert path.read_bytes() == _served(video)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_download_into_a_directory_uses_a_safe_name(client: Qubrid, tmp_path: Path) -> None:
    """A directory destination gets the URL's file name."""
    video = client.videos.generate(**TINY)
    path = video.download(tmp_path)
    assert path.parent == tmp_path
    assert path.name == video.url.rsplit("/", 1)[1]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_server_chosen_extension_never_names_the_file(flavour: str, tmp_path: Path) -> None:
    """A video URL ending in ``setup.exe``, downloaded into a directory, is saved as ``setup.mp4``."""
    with hostile("video") as (base_url, _):
        outcome = fetch(flavour, base_url, f"{base_url}/files/setup.exe", tmp_path)
    assert outcome.error is None, outcome.error
    assert outcome.path == tmp_path / "setup.mp4"
    assert outcome.path.read_bytes() == VIDEO
    assert os.listdir(tmp_path) == ["setup.mp4"]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://cdn.example/generated/video.mp4", "video.mp4"),
        ("https://cdn.example/a/..%2F..%2Fetc%2Fpasswd", "passwd.mp4"),
        ("https://cdn.example/..", "video-req-1.mp4"),
        ("https://cdn.example/x/%2e%2e%5c%2e%2e%5cwin.ini", "win.mp4"),
        ("https://cdn.example/", "video-req-1.mp4"),
        ("https://cdn.example/v/.hidden", "hidden.mp4"),
        ("https://cdn.example/v/na me;rm -rf.mp4", "na_me_rm_-rf.mp4"),
        ("https://cdn.example/evil.sh", "evil.mp4"),
        ("https://cdn.example/index.html", "index.mp4"),
        ("https://cdn.example/setup.exe", "setup.mp4"),
        ("https://cdn.example/setup.exe.mp4", "setup_exe.mp4"),
        ("https://cdn.example/%E2%80%AEgpj.exe", "gpj.mp4"),
        ("https://cdn.example/clip.MOV", "clip.mov"),
        ("https://cdn.example/NUL.mp4", "video-NUL.mp4"),
        ("https://cdn.example/con", "video-con.mp4"),
        ("https://cdn.example/aux.", "video-aux.mp4"),
        ("https://cdn.example/lpt9.webm", "video-lpt9.webm"),
        ("https://cdn.example/video.", "video.mp4"),
        ("https://cdn.example/-rf.mp4", "rf.mp4"),
        ("https://cdn.example/--", "video-req-1.mp4"),
        ("https://cdn.example/" + "a" * 400 + ".mp4", "a" * 150 + ".mp4"),
    ],
)
def test_names_from_urls_cannot_escape(url: str, name: str) -> None:
    """Whatever the URL says, the name has no separators, one dot before a video's extension (else
    .mp4), no leading dot or dash, no Windows device name, and a bounded length."""
    assert safe_name(url, "req-1") == name


def test_resume_after_a_dropped_download(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """A connection cut mid-download resumes with Range and If-Range; the file is byte-identical."""
    video = client.videos.generate(**TINY)
    served = _served(video)
    emulator.inject("drop_download", count=2, cut_at=0.4)
    path = video.download(tmp_path / "v.mp4")
    assert path.read_bytes() == served
    downloads = emulator.downloads()[1:]
    assert [d.fault for d in downloads] == ["drop_download", "drop_download", None]
    assert downloads[0].range is None
    assert downloads[1].range.startswith("bytes=")
    assert downloads[1].if_range == httpx.head(video.url).headers["etag"]
    assert [d.status for d in downloads] == [200, 206, 206]


def test_async_download_resumes_too(emulator: Emulator, tmp_path: Path) -> None:
    """The async client downloads and resumes the same way."""

    async def run() -> tuple[Path, str]:
        async with AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            video = await client.videos.generate(**TINY)
            emulator.inject("drop_download", cut_at=0.5)
            return await video.download(tmp_path / "a.mp4"), video.url

    path, url = asyncio.run(run())
    assert path.read_bytes() == httpx.get(url).content


def test_existing_file_is_kept(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """Without overwrite an existing file is untouched and nothing is fetched; with it, it is replaced."""
    video = client.videos.generate(**TINY)
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(DestinationExistsError) as caught:
        video.download(target)
    assert isinstance(caught.value, FileExistsError)
    assert target.read_bytes() == b"precious"
    assert emulator.downloads() == []
    video.download(target, overwrite=True)
    assert target.read_bytes() == _served(video)
    assert os.listdir(tmp_path) == ["keep.mp4"]


def test_failure_leaves_nothing_behind(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """When every attempt is cut, DownloadError is raised and no partial or temporary file remains."""
    video = client.videos.generate(**TINY)
    emulator.inject("drop_download", count=50, cut_at=0.5)
    with pytest.raises(DownloadError, match="kept failing"):
        video.download(tmp_path / "never.mp4")
    assert os.listdir(tmp_path) == []


def test_http_error_and_short_body_leave_nothing(tmp_path: Path) -> None:
    """A 404, or a body shorter than its Content-Length, is a DownloadError and leaves no file."""

    async def files(request: Request) -> Response:
        if request.path_params["name"] == "missing.mp4":
            return JSONResponse({"error": "no"}, status_code=404)
        return Response(b"x" * 10, headers={"content-length": "10"})

    app = Starlette(routes=[Route("/{name}", files)])
    with serve_app(app) as origin:
        with pytest.raises(DownloadError, match="HTTP 404"):
            Video(url=f"{origin}/missing.mp4", created=None, request_id=None).download(tmp_path / "a.mp4")
        assert (
            Video(url=f"{origin}/ok.mp4", created=None, request_id=None).download(tmp_path / "b.mp4").stat().st_size
            == 10
        )
    assert os.listdir(tmp_path) == ["b.mp4"]


def test_bad_download_arguments(client: Qubrid, tmp_path: Path) -> None:
    """Bad destinations and options are refused by name before any request."""
    video = client.videos.generate(**TINY)
    with pytest.raises(InvalidParameterError, match="does not exist") as missing:
        video.download(tmp_path / "no" / "such" / "dir" / "v.mp4")
    assert missing.value.param == "dest"
    with pytest.raises(ParameterTypeError):
        video.download(42)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        video.download(tmp_path / "v.mp4", overwrite="yes")  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        video.download(tmp_path / "v.mp4", progress="bar")  # type: ignore[arg-type]


def test_key_never_reaches_the_cdn_origin(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """Videos on another origin are fetched without the Authorization header."""
    client.videos.generate(**TINY).download(tmp_path / "v.mp4")
    assert emulator.downloads()[0].authorization is False
    assert emulator.requests()[0].authorization is True


def test_key_is_sent_to_the_api_origin_itself(tmp_path: Path) -> None:
    """Videos served by the API's own origin get the key (that host already has it)."""
    with Emulator(EmulatorConfig(same_origin_files=True)) as emulator:
        with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            video = client.videos.generate(**TINY)
            assert video.url.startswith(emulator.origin)
            video.download(tmp_path / "v.mp4")
        assert emulator.downloads()[0].authorization is True


def test_unpickled_video_downloads_without_a_key(client: Qubrid, emulator: Emulator, tmp_path: Path) -> None:
    """A Video pickled and restored (no client attached) still downloads, with no key at all."""
    video = pickle.loads(pickle.dumps(client.videos.generate(**TINY)))
    assert video.downloader.detached
    assert video.download(tmp_path / "p.mp4").read_bytes() == _served(video)
    assert emulator.downloads()[0].authorization is False


_DOWNLOAD_UNDER_UMASK = """
import os, sys
from pathlib import Path
from qubrid_video import Video
os.umask(int(sys.argv[1], 8))
target = Path(sys.argv[3])
if sys.argv[4] == "overwrite":
    target.write_bytes(b"old")
    target.chmod(0o600)
path = Video(url=sys.argv[2], created=None, request_id=None).download(target, overwrite=sys.argv[4] == "overwrite")
print(oct(path.stat().st_mode & 0o777))
"""


@pytest.mark.parametrize(
    ("umask", "how", "mode"),
    [("022", "new", "0o644"), ("077", "new", "0o600"), ("002", "new", "0o664"), ("022", "overwrite", "0o644")],
)
def test_downloaded_file_mode_follows_the_umask(
    client: Qubrid, tmp_path: Path, umask: str, how: str, mode: str
) -> None:
    """The finished file gets 0666 less the umask, like any other tool's file, and nothing else is left."""
    video = client.videos.generate(**TINY)
    target = tmp_path / "v.mp4"
    command = [sys.executable, "-c", _DOWNLOAD_UNDER_UMASK, umask, video.url, str(target), how]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == mode
    assert target.read_bytes() == _served(video)
    assert os.listdir(tmp_path) == ["v.mp4"]
