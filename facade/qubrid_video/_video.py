"""The video operation: ``client.videos`` (its endpoint, ``generate()``) and the ``Video`` it returns.

:class:`Videos` owns the endpoint: its path, what a 200 from it holds, and the arguments checked
before anything is sent. It hands one :class:`._call.Call` to its client's send loop. A
:class:`Video` holds what was generated and the downloader that fetches it (to a file, into
memory, or chunk by chunk), not the client; in a notebook it shows as a player (:mod:`._display`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Generator, Mapping
from pathlib import Path
from typing import Any

import httpx

from ._call import Call, Endpoint
from ._choices import AspectRatio, Model, Resolution
from ._config import ClientOptions, Timeout, coerce_timeout
from ._download import AsyncDownloader, Downloader
from ._media import MediaInput, opens_a_file
from ._request import GenerateParams, prepare
from ._response import VideoFields, parse_success
from ._threads import off_loop
from ._transfer import DEFAULT_MAX_BYTES, DEFAULT_READ_MAX_BYTES, Progress

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
        model: Model | str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: Resolution | None = None,
        fps: int | None = None,
        aspect_ratio: AspectRatio | None = None,
        image: MediaInput | None = None,
        audio: MediaInput | None = None,
        draft: bool | None = None,
        save_audio: bool | None = None,
        prompt_upsampling: bool | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Generate a video and wait for it (this can take minutes).

        Arguments left as None are not sent: the API's defaults apply. The server decides what it
        accepts; p-video publishes these options:

        - ``resolution``: ``"720p"`` or ``"1080p"`` (default ``"720p"``);
        - ``fps``: 24 or 48 (default 24);
        - ``duration``: 1 to 10 seconds (default 5);
        - ``aspect_ratio``: ``"16:9"``, ``"9:16"``, ``"1:1"``, ``"4:3"``, ``"3:4"``, ``"3:2"``, ``"2:3"``
          (default ``"16:9"``);
        - ``image``: jpg, jpeg, png or webp; it sets the aspect ratio (``aspect_ratio`` is ignored);
        - ``audio``: flac, mp3 or wav; it sets the duration, up to 10 s (``duration`` is ignored).

        Its price is per second of video: US$0.02 at 720p and 0.04 at 1080p, a quarter of that
        in draft mode (Pruna's published list).

        ``resolution`` and ``aspect_ratio`` are typed with those choices (:data:`Resolution`,
        :data:`AspectRatio`), so a type checker flags a typo. The SDK itself sends any string: a
        value newer than this SDK goes through a cast, unchanged at run time, e.g.
        ``resolution=typing.cast(qubrid_video.Resolution, "1440p")``.

        Args:
            model: The video model, e.g. ``"p-video"`` (:data:`Model`); any other name is sent too.
            prompt: What the video shows.
            duration: Length in seconds (a positive whole number).
            resolution: Output resolution, e.g. ``"720p"``.
            fps: Frames per second (a positive whole number).
            aspect_ratio: Shape of the frame, e.g. ``"16:9"``.
            image: Input image (:data:`MediaInput`): an http(s) URL, a path, bytes, a binary file
                object, or a ``(filename, content, mime_type)`` tuple. Anything local is uploaded, streamed.
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
        model: Model | str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: Resolution | None = None,
        fps: int | None = None,
        aspect_ratio: AspectRatio | None = None,
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
        making = functools.partial(_generation, self._options, params, timeout, extra_headers)
        if opens_a_file(image) or opens_a_file(audio):
            # Opening and sniffing a file waits on the disk: off the event loop (a call without one
            # does not pay for the thread).
            call = await off_loop(making, undo=lambda made: made.request.close())
        else:
            call = making()
        fields = await self._send(call)
        return AsyncVideo(**fields, downloader=self._downloader)


def _restore(cls: type[Any], url: str, created: dt.datetime | None, request_id: str | None) -> Any:
    return cls(url=url, created=created, request_id=request_id)


@dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
class _VideoBase:
    """What ``Video`` and ``AsyncVideo`` share: the data, and pickles that leave the downloader behind."""

    url: str
    created: dt.datetime | None
    request_id: str | None
    response: httpx.Response | None = dataclasses.field(default=None, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles keep the data; the live response and the downloader (a pool, a key) stay behind.
        return (_restore, (type(self), self.url, self.created, self.request_id))

    def _repr_html_(self) -> str:
        """The video as HTML for Jupyter: a player on its URL, its request id and a link (nothing is fetched)."""
        from ._display import video_html  # noqa: PLC0415 - notebooks only: `import qubrid_video` skips html

        return video_html(self.url, self.request_id, self.created)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> dict[str, str]:
        """IPython's rich display: ``text/html`` (:meth:`_repr_html_`) and ``text/plain`` (the repr)."""
        bundle = {"text/html": self._repr_html_(), "text/plain": repr(self)}
        return {kind: text for kind, text in bundle.items()
                if (include is None or kind in include) and (exclude is None or kind not in exclude)}  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class Video(_VideoBase):
    """A generated video.

    Attributes:
        url: Where the video can be downloaded (often a CDN, another host than the API).
        created: When the API created it (timezone-aware, UTC), or None if the API did not say.
        request_id: The API's id for the request that made it, for support.
        response: The raw ``httpx.Response`` of the generation: headers, and the body the SDK read
            (``.json()``, ``.text``); its request's key is redacted. None after unpickling.
        downloader: What ``download()``, ``read()`` and ``iter_bytes()`` use: the client's
            (``client.downloader``), or after unpickling a detached one, which sends no key.

    In Jupyter a video shows as a player on its URL, with its request id and a link. The SDK
    fetches nothing to show it; the browser asks the URL for the first frame and the length,
    and for the rest when played.
    """

    downloader: Downloader = dataclasses.field(default_factory=Downloader, repr=False, compare=False)

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
            dest: A file path, or an existing directory: the name then comes from the URL, made
                safe (letters, digits, ``_``, ``-``, and a video's extension only, else ``.mp4``).
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
        return self.downloader.download(self.url, self.request_id, dest, overwrite=overwrite, progress=progress,
                                        timeout=timeout, max_bytes=max_bytes)  # fmt: skip

    def read(
        self,
        *,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_READ_MAX_BYTES,
    ) -> bytes:
        """Download the video into memory and return its bytes, under the same rules as :meth:`download`.

        After a dropped connection it resumes with ``Range`` (or starts over, when the server
        cannot resume or the video changed). The key goes only to the API's own origin.

        Args:
            progress: Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
            timeout: Seconds for the whole download, resumes and redirects included, or a
                :class:`Timeout` (its ``total``); defaults to the client's.
            max_bytes: The largest video accepted: 2 GiB by default (``download()`` and
                ``iter_bytes()`` take 8 GiB), so that a body without a length that runs on ends
                long before it fills your memory; raise it for a larger video, or use ``download()``.

        Returns:
            The whole video.

        Raises:
            DownloadError: the video could not be fetched whole, is larger than `max_bytes` or
                than the server announced (no bytes are returned). ``DownloadTimeoutError`` when
                the deadline passed.
            InvalidParameterError: an argument is wrong; nothing was fetched.
        """
        return self.downloader.read(self.url, progress=progress, timeout=timeout, max_bytes=max_bytes)

    def iter_bytes(
        self,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Generator[bytes, None, None]:
        """Stream the video: its bytes chunk by chunk, never all in memory, under :meth:`download`'s rules.

        The arguments are checked at the call; the download starts at the first ``next()``.
        After a dropped connection it resumes with ``Range`` exactly after the bytes already
        yielded; if the server cannot (no ``ETag`` or ``Last-Modified``, a range ignored, or the
        video changed), it raises instead of yielding the video again from the start. The deadline
        counts the time your loop takes between chunks too. Breaking out of the loop early closes
        the connection (for a generator kept in a variable, call its ``close()``, or use
        ``contextlib.closing``).

        Args:
            chunk_size: The size of each chunk (the last may be shorter); None: as they arrive.
            progress: Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
            timeout: Seconds for the whole download, or a :class:`Timeout`; defaults to the client's.
            max_bytes: The largest video accepted (8 GiB by default): a larger announced length is
                refused before the first chunk; a body growing past it raises once it does.

        Returns:
            An iterator of the video's chunks; together they are the whole video.

        Raises:
            DownloadError: while iterating, the video could not be fetched whole, could not be
                resumed after the bytes yielded, or grew past `max_bytes` or the length the
                server announced (no byte past either is yielded).
                ``DownloadTimeoutError`` when the deadline passed.
            InvalidParameterError: at the call, an argument is wrong; nothing was fetched.
        """
        return self.downloader.iter_bytes(
            self.url, chunk_size=chunk_size, progress=progress, timeout=timeout, max_bytes=max_bytes
        )


@dataclasses.dataclass(frozen=True, slots=True)
class AsyncVideo(_VideoBase):
    """A generated video, from :class:`AsyncQubrid`; ``download`` and ``read`` are awaitable, ``iter_bytes`` async.

    Attributes:
        url: Where the video can be downloaded, as :class:`Video`'s.
        created: When the API created it, as :class:`Video`'s.
        request_id: The API's id for the request that made it, as :class:`Video`'s.
        response: The raw ``httpx.Response`` of the generation, as :class:`Video`'s.
        downloader: What ``download()``, ``read()`` and ``iter_bytes()`` use: the client's, or
            after unpickling a detached one.

    In Jupyter it shows as :class:`Video` does.
    """

    downloader: AsyncDownloader = dataclasses.field(default_factory=AsyncDownloader, repr=False, compare=False)

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
        return await self.downloader.download(
            self.url,
            self.request_id,
            dest,
            overwrite=overwrite,
            progress=progress,
            timeout=timeout,
            max_bytes=max_bytes,
        )

    async def read(
        self,
        *,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_READ_MAX_BYTES,
    ) -> bytes:
        """:meth:`Video.read`, awaited: the same arguments, checks, errors and result."""
        return await self.downloader.read(self.url, progress=progress, timeout=timeout, max_bytes=max_bytes)

    def iter_bytes(
        self,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> AsyncGenerator[bytes, None]:
        """:meth:`Video.iter_bytes` for ``async for``: the same arguments, checks and errors.

        The arguments are checked at the call (not awaited). Breaking out of ``async for`` leaves
        the generator to be closed later, by the garbage collector; to close the connection at
        once, iterate inside ``async with contextlib.aclosing(video.iter_bytes()) as chunks:``.
        """
        return self.downloader.iter_bytes(
            self.url, chunk_size=chunk_size, progress=progress, timeout=timeout, max_bytes=max_bytes
        )
