"""The result of a generation: where the video is, and the downloader that fetches it (not the client)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import attrs
import httpx

from ._config import Timeout
from ._download import AsyncDownloader, Downloader
from ._transfer import DEFAULT_MAX_BYTES, Progress


def _restore(cls: type[Any], url: str, created: dt.datetime | None, request_id: str | None) -> Any:
    return cls(url=url, created=created, request_id=request_id)


@attrs.frozen
class _VideoBase:
    url: str
    created: dt.datetime | None
    request_id: str | None
    response: httpx.Response | None = attrs.field(default=None, repr=False, eq=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles keep the data; the live response and the downloader (a pool, a key) stay behind.
        return (_restore, (type(self), self.url, self.created, self.request_id))


@attrs.frozen
class Video(_VideoBase):
    """A generated video.

    Attributes:
        url: Where the video can be downloaded (often a CDN, another host than the API).
        created: When the API created it (timezone-aware, UTC), or None if the API did not say.
        request_id: The API's id for the request that made it, for support.
        response: The raw ``httpx.Response`` of the generation: headers, and the body the SDK read
            (``.json()``, ``.text``); its request's key is redacted. None after unpickling.
        downloader: What ``download()`` uses: the client's (``client.downloader``), or after
            unpickling a detached one, which sends no key.
    """

    downloader: Downloader = attrs.field(factory=Downloader, repr=False, eq=False)

    def download(
        self,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Path:
        """Download the video, resuming after dropped connections; the file appears only when complete.

        Args:
            dest: A file path, or an existing directory (the name then comes from the URL, sanitised).
            overwrite: Replace an existing file. Without it an existing file is never touched.
            progress: Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
            timeout: Seconds for the whole download, resumes and redirects included, or a
                :class:`Timeout` (its ``total``); defaults to the client's.
            max_bytes: The largest video accepted; a larger one is refused (8 GiB by default).

        Returns:
            The path written.

        Raises:
            DestinationExistsError: the file exists and `overwrite` is False.
            DownloadError: the video could not be fetched whole, or saved; nothing was left on disk.
                ``DownloadTimeoutError`` when the deadline passed.
            InvalidParameterError: `dest` names a missing directory, or another argument is wrong.
        """
        options = {"overwrite": overwrite, "progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        return self.downloader.download(self.url, self.request_id, dest, **options)


@attrs.frozen
class AsyncVideo(_VideoBase):
    """A generated video, from :class:`AsyncQubrid`; ``download`` is awaitable.

    Attributes:
        url, created, request_id, response: As :class:`Video`'s.
        downloader: What ``download()`` uses: the client's, or after unpickling a detached one.
    """

    downloader: AsyncDownloader = attrs.field(factory=AsyncDownloader, repr=False, eq=False)

    async def download(
        self,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Path:
        """:meth:`Video.download`, awaited: the same arguments, checks, errors and result."""
        options = {"overwrite": overwrite, "progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        return await self.downloader.download(self.url, self.request_id, dest, **options)
