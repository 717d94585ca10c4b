"""Download a video safely: stream to a temporary file, resume after drops, move into place when whole.

The decisions (which Range to ask for, whether an answer continues the file) are made by
:class:`~._transfer.Transfer` without I/O, and the file is :mod:`._staging`'s; :func:`download`
and :func:`adownload` only move bytes.

Failures never carry the key. An httpx error holds its request (whose headers held the key) and a
traceback whose frames' locals error trackers record; so a DownloadError is chained to a copy of it
made of its type and message only, and raised outside the ``except`` block, so that the original
is not kept as its context either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from ._errors import DownloadError
from ._staging import Partial, staged
from ._transfer import MAX_RESUMES, ApiKey, Progress, Transfer


def _take(partial: Partial, transfer: Transfer, chunk: bytes, progress: Progress | None) -> None:
    partial.write(chunk)
    transfer.written += len(chunk)
    if progress is not None:
        progress(transfer.written, transfer.total)


def _restart_or_continue(partial: Partial, transfer: Transfer, response: httpx.Response) -> None:
    if not transfer.begin(response):
        partial.restart()


def _told(exc: httpx.TransportError) -> httpx.TransportError:
    """`exc`'s type and message alone: no request, no traceback, no chain."""
    return type(exc)(str(exc))


def _options(url: str, key: ApiKey | None) -> dict[str, Any]:
    """Request options: httpx's auth flow adds the key, for the API's own origin only.

    httpx drops the Authorization header when a redirect leaves the origin (it keeps it only for a
    plain upgrade from http to https on the same host), so the key never follows a redirect away.
    """
    if key is not None and key.covers(httpx.URL(url)):
        return {"follow_redirects": True, "auth": key}
    return {"follow_redirects": True}


def download(
    http: httpx.Client, url: str, target: Path, *, key: ApiKey | None, overwrite: bool, progress: Progress | None
) -> Path:
    """Fetch `url` into `target` with `http`, resuming up to MAX_RESUMES times after a dropped connection."""
    transfer = Transfer(url)
    options = _options(url, key)
    with staged(target, url, overwrite) as partial:
        failure: httpx.TransportError | None = None
        for _ in range(MAX_RESUMES + 1):
            try:
                with http.stream("GET", url, headers=transfer.headers(), **options) as answer:
                    _restart_or_continue(partial, transfer, answer)
                    for chunk in answer.iter_raw():
                        _take(partial, transfer, chunk, progress)
                failure = None
                break
            except httpx.TransportError as exc:
                failure = _told(exc)
        if failure is not None:
            # Raised here, not in the except block, so the original is not kept as its context.
            raise DownloadError(f"the download kept failing ({type(failure).__name__})", url=url) from failure
        transfer.check_complete()
        partial.commit()
    return target


async def adownload(
    http: httpx.AsyncClient,
    url: str,
    target: Path,
    *,
    key: ApiKey | None,
    overwrite: bool,
    progress: Progress | None,
) -> Path:
    """The async twin of :func:`download`."""
    transfer = Transfer(url)
    options = _options(url, key)
    with staged(target, url, overwrite) as partial:
        failure: httpx.TransportError | None = None
        for _ in range(MAX_RESUMES + 1):
            try:
                async with http.stream("GET", url, headers=transfer.headers(), **options) as answer:
                    _restart_or_continue(partial, transfer, answer)
                    async for chunk in answer.aiter_raw():
                        _take(partial, transfer, chunk, progress)
                failure = None
                break
            except httpx.TransportError as exc:
                failure = _told(exc)
        if failure is not None:
            raise DownloadError(f"the download kept failing ({type(failure).__name__})", url=url) from failure
        transfer.check_complete()
        partial.commit()
    return target
