"""The result of a generation: where the video is, and a way to fetch it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ._transfer import DEFAULT_MAX_BYTES, Progress

if TYPE_CHECKING:
    from ._client import AsyncQubrid, Qubrid
    from ._config import Timeout


def _restore(cls: type[Any], url: str, created: dt.datetime | None, request_id: str | None) -> Any:
    return cls(url=url, created=created, request_id=request_id)


@attrs.frozen
class _VideoBase:
    url: str
    created: dt.datetime | None
    request_id: str | None
    response: httpx.Response | None = attrs.field(default=None, repr=False, eq=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles keep the data; the live response and the client (its pool, its key) stay behind.
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
    """

    client: Qubrid | None = attrs.field(default=None, repr=False, eq=False)

    def download(
        self,
        dest: str | Path,
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
        if self.client is not None:
            return self.client._download(self, dest, **options)
        from ._client import Qubrid  # noqa: PLC0415 - only after unpickling: no client attached

        return Qubrid._download_detached(self, dest, **options)


@attrs.frozen
class AsyncVideo(_VideoBase):
    """A generated video, from :class:`AsyncQubrid`; ``download`` is awaitable.

    Attributes:
        url: Where the video can be downloaded (often a CDN, another host than the API).
        created: When the API created it (timezone-aware, UTC), or None if the API did not say.
        request_id: The API's id for the request that made it, for support.
        response: The raw ``httpx.Response`` of the generation: headers, and the body the SDK read
            (``.json()``, ``.text``); its request's key is redacted. None after unpickling.
    """

    client: AsyncQubrid | None = attrs.field(default=None, repr=False, eq=False)

    async def download(
        self,
        dest: str | Path,
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
        if self.client is not None:
            return await self.client._download(self, dest, **options)
        from ._client import AsyncQubrid  # noqa: PLC0415 - only after unpickling: no client attached

        return await AsyncQubrid._download_detached(self, dest, **options)
