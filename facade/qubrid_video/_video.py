"""The video operation: ``client.videos`` (its endpoint, ``generate()``) and the ``Video`` it returns.

:class:`Videos` owns the endpoint: its path, what a 200 from it holds, and the arguments checked
before anything is sent. It hands one :class:`._call.Call` to its client's send loop. A
:class:`Video` holds what was generated and the downloader that fetches it, not the client.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import httpx

from ._call import Call, Endpoint
from ._config import ClientOptions, Timeout, coerce_timeout
from ._download import AsyncDownloader, Downloader
from ._media import MediaInput
from ._request import GenerateParams, prepare
from ._response import VideoFields, parse_success
from ._transfer import DEFAULT_MAX_BYTES, Progress

GENERATIONS = Endpoint("POST", "/videos/generations", parse_success)


def _generation(
    options: ClientOptions, params: GenerateParams, timeout: object, extra_headers: object
) -> Call[VideoFields]:
    """The call for `params`, everything checked: the time limits first, then the fields, then the files."""
    limits = coerce_timeout("timeout", timeout, options.timeout)
    return Call(GENERATIONS, prepare(params, extra_headers), limits, options)


class Videos:
    """``client.videos``: the video generation operation."""

    def __init__(
        self, send: Callable[[Call[VideoFields]], VideoFields], options: ClientOptions, downloader: Downloader
    ) -> None:
        self._send = send
        self._options = options
        self._downloader = downloader

    def generate(
        self,
        *,
        model: str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        fps: int | None = None,
        aspect_ratio: str | None = None,
        image: MediaInput | None = None,
        audio: MediaInput | None = None,
        draft: bool | None = None,
        save_audio: bool | None = None,
        prompt_upsampling: bool | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Generate a video and wait for it (this can take minutes).

        Arguments left as None are not sent: the API's defaults apply.

        Args:
            model: The video model, e.g. ``"p-video"``.
            prompt: What the video shows.
            duration: Length in seconds (a positive whole number).
            resolution: Output resolution, e.g. ``"720p"``.
            fps: Frames per second (a positive whole number).
            aspect_ratio: e.g. ``"16:9"``.
            image: Input image: an http(s) URL, a path, bytes, a binary file object, or a
                ``(filename, content, mime_type)`` tuple. Anything local is uploaded, streamed.
            audio: Input audio, in the same forms as `image`.
            draft: Generate a faster, lower-quality preview.
            save_audio: Keep the input audio in the video.
            prompt_upsampling: Let the API expand the prompt.
            timeout: This call's time limits: seconds for the whole call, or a :class:`Timeout`.
            extra_headers: More headers for this call (an ``Idempotency-Key`` here replaces the SDK's).

        Returns:
            The video: its URL, creation time and request id, and ``download()``.

        Raises:
            InvalidParameterError: an argument is not allowed (nothing was sent).
            APIStatusError: the API answered an error (a subclass per status).
            APIConnectionError: no answer (``APITimeoutError`` for timeouts).
            ResponseValidationError: a 200 without a usable video URL.
        """
        params = GenerateParams(model=model, prompt=prompt, duration=duration, resolution=resolution, fps=fps,
                                aspect_ratio=aspect_ratio, image=image, audio=audio, draft=draft,
                                save_audio=save_audio, prompt_upsampling=prompt_upsampling)  # fmt: skip
        fields = self._send(_generation(self._options, params, timeout, extra_headers))
        return Video(**fields, downloader=self._downloader)


class AsyncVideos:
    """``client.videos`` of :class:`AsyncQubrid`: the video generation operation, awaitable."""

    def __init__(
        self,
        send: Callable[[Call[VideoFields]], Awaitable[VideoFields]],
        options: ClientOptions,
        downloader: AsyncDownloader,
    ) -> None:
        self._send = send
        self._options = options
        self._downloader = downloader

    async def generate(
        self,
        *,
        model: str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        fps: int | None = None,
        aspect_ratio: str | None = None,
        image: MediaInput | None = None,
        audio: MediaInput | None = None,
        draft: bool | None = None,
        save_audio: bool | None = None,
        prompt_upsampling: bool | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AsyncVideo:
        """:meth:`Videos.generate`, awaited: the same arguments, checks and errors; an :class:`AsyncVideo`."""
        params = GenerateParams(model=model, prompt=prompt, duration=duration, resolution=resolution, fps=fps,
                                aspect_ratio=aspect_ratio, image=image, audio=audio, draft=draft,
                                save_audio=save_audio, prompt_upsampling=prompt_upsampling)  # fmt: skip
        fields = await self._send(_generation(self._options, params, timeout, extra_headers))
        return AsyncVideo(**fields, downloader=self._downloader)


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
        url: Where the video can be downloaded, as :class:`Video`'s.
        created: When the API created it, as :class:`Video`'s.
        request_id: The API's id for the request that made it, as :class:`Video`'s.
        response: The raw ``httpx.Response`` of the generation, as :class:`Video`'s.
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
