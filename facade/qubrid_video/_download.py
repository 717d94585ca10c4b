"""Download a video safely: stream to a temporary file, resume after drops, move into place when whole.

The decisions (where to write, which Range to ask for, whether an answer continues the file) are
made by :class:`Transfer` without I/O; :func:`download` and :func:`adownload` only move bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import httpx

from ._errors import DestinationExistsError, DownloadError, InvalidParameterError, ParameterTypeError

Progress = Callable[[int, int | None], object]
MAX_RESUMES = 5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def safe_name(url: str, request_id: str | None) -> str:
    """A file name from the URL's last path segment, with nothing that could leave the directory."""
    segment = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", segment).lstrip("._")[:150]
    if not name:
        name = _UNSAFE.sub("_", f"video-{request_id or 'download'}").strip("._")
    return name if "." in name else f"{name}.mp4"


def destination(dest: object, url: str, request_id: str | None) -> Path:
    """The file to write: `dest` itself, or a safe name from the URL inside `dest` when it is a directory."""
    if not isinstance(dest, str | os.PathLike):
        raise ParameterTypeError("dest", f"expected a file or directory path, got {type(dest).__name__}")
    raw = os.fspath(dest)
    if not isinstance(raw, str) or not raw:
        raise InvalidParameterError("dest", "expected a non-empty file or directory path")
    path = Path(raw)
    if path.is_dir() or raw.endswith(("/", os.sep)):
        path = path / safe_name(url, request_id)
    if not path.parent.is_dir():
        raise InvalidParameterError("dest", f"the directory {path.parent} does not exist")
    return path.absolute()


class Transfer:
    """What has been received of one download, and what to ask for next."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.written = 0
        self.total: int | None = None
        self.validator: str | None = None

    def headers(self) -> dict[str, str]:
        """Headers for the next request: a Range continuing the file when resuming is safe.

        Identity encoding keeps byte offsets and Content-Length about the file itself.
        """
        if self.written and self.validator:
            return {"Accept-Encoding": "identity", "Range": f"bytes={self.written}-", "If-Range": self.validator}
        return {"Accept-Encoding": "identity"}

    def begin(self, response: httpx.Response) -> bool:
        """Check an answer; True when its body continues the file, False when it starts it over.

        Raises:
            DownloadError: an error status, or a partial answer that does not continue the file.
        """
        status = response.status_code
        if status == 206 and self.written:
            match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if not match or int(match.group(1)) != self.written:
                raise DownloadError(f"the server resumed at the wrong offset ({response.headers.get('content-range')})",
                                    url=self.url)  # fmt: skip
            return True
        if status != 200:
            raise DownloadError(f"the video URL answered HTTP {status}", url=self.url)
        self.written = 0
        length = response.headers.get("content-length", "")
        self.total = int(length) if length.isdigit() else None
        self.validator = response.headers.get("etag") or response.headers.get("last-modified")
        return False

    def check_complete(self) -> None:
        """Raise unless the whole announced length arrived."""
        if self.total is not None and self.written != self.total:
            raise DownloadError(f"got {self.written} of {self.total} bytes", url=self.url)


def _place(partial: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        partial.replace(target)
        return
    try:
        # A hard link fails if the target appeared meanwhile: no window for clobbering it.
        os.link(partial, target)
    except FileExistsError:
        raise DestinationExistsError(str(target)) from None
    except OSError:
        if target.exists():
            raise DestinationExistsError(str(target)) from None
        partial.replace(target)


@contextlib.contextmanager
def staged(target: Path, overwrite: bool) -> Iterator[tuple[IO[bytes], Callable[[], None]]]:
    """A temporary file beside `target`, and a function that moves it into place; removed on any failure."""
    if target.exists() and not overwrite:
        raise DestinationExistsError(str(target))
    import tempfile  # noqa: PLC0415 - only downloads need it

    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    # Unbuffered: network chunks go straight to the file, without a second copy through a buffer.
    handle = open(descriptor, "wb", buffering=0)  # noqa: SIM115 - closed below, on every path
    partial = Path(name)

    def commit() -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        _place(partial, target, overwrite)

    try:
        yield handle, commit
    finally:
        # After a commit the video lives on under `target` (hard link or rename); on failure, or
        # Ctrl-C, nothing half-written is left behind.
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _write(handle: IO[bytes], transfer: Transfer, chunk: bytes, progress: Progress | None) -> None:
    view = memoryview(chunk)
    while view:
        # An unbuffered file may take only part of a chunk (a nearly full disk, a file size
        # limit); writing the rest then raises the real error instead of losing bytes silently.
        view = view[handle.write(view) :]
    transfer.written += len(chunk)
    if progress is not None:
        progress(transfer.written, transfer.total)


def _restart_or_continue(handle: IO[bytes], transfer: Transfer, response: httpx.Response) -> None:
    if not transfer.begin(response):
        handle.seek(0)
        handle.truncate()


def download(
    http: httpx.Client, url: str, target: Path, *, headers: dict[str, str], overwrite: bool, progress: Progress | None
) -> Path:
    """Fetch `url` into `target` with `http`, resuming up to MAX_RESUMES times after a dropped connection."""
    transfer = Transfer(url)
    with staged(target, overwrite) as (handle, commit):
        for attempt in range(MAX_RESUMES + 1):
            try:
                with http.stream(
                    "GET", url, headers={**headers, **transfer.headers()}, follow_redirects=True
                ) as answer:
                    _restart_or_continue(handle, transfer, answer)
                    for chunk in answer.iter_raw():
                        _write(handle, transfer, chunk, progress)
                break
            except httpx.TransportError as exc:
                if attempt == MAX_RESUMES:
                    raise DownloadError(f"the download kept failing ({type(exc).__name__})", url=url) from exc
        transfer.check_complete()
        commit()
    return target


async def adownload(
    http: httpx.AsyncClient,
    url: str,
    target: Path,
    *,
    headers: dict[str, str],
    overwrite: bool,
    progress: Progress | None,
) -> Path:
    """The async twin of :func:`download`."""
    transfer = Transfer(url)
    with staged(target, overwrite) as (handle, commit):
        for attempt in range(MAX_RESUMES + 1):
            try:
                request_headers = {**headers, **transfer.headers()}
                async with http.stream("GET", url, headers=request_headers, follow_redirects=True) as answer:
                    _restart_or_continue(handle, transfer, answer)
                    async for chunk in answer.aiter_raw():
                        _write(handle, transfer, chunk, progress)
                break
            except httpx.TransportError as exc:
                if attempt == MAX_RESUMES:
                    raise DownloadError(f"the download kept failing ({type(exc).__name__})", url=url) from exc
        transfer.check_complete()
        commit()
    return target
