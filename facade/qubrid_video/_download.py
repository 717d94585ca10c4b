"""Download a video safely: stream to a temporary file, resume after drops, move into place when whole.

The decisions (which Range to ask for, whether an answer continues the file) are made by
:class:`~._transfer.Transfer` without I/O, and the file is :mod:`._staging`'s; :func:`download`
and :func:`adownload` only move bytes.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import IO

import httpx

from ._errors import DownloadError
from ._staging import staged
from ._transfer import MAX_RESUMES, Progress, Transfer


def _write(handle: IO[bytes], transfer: Transfer, chunk: bytes, progress: Progress | None) -> None:
    # An unbuffered write may write only part of the chunk (a file-size limit, a full disk): write
    # the rest, so the failure surfaces as an error instead of a short file saved as complete.
    view = memoryview(chunk)
    while view:
        written = handle.write(view)
        if not written:
            raise OSError(errno.EIO, "the file accepted no more bytes")
        view = view[written:]
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
