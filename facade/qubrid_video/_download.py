"""Download a video: to a file (``download``), into memory (``read``), or chunk by chunk (``iter_bytes``).

A :class:`Downloader` (an :class:`AsyncDownloader` for asyncio) is what a ``Video`` downloads
with: its client's connection pool, the key for the API's own origin only, and the client's
timeout as the default deadline. Made without arguments (an unpickled video's), it opens a
connection of its own for each download and never sends a key.

All three ways share everything but where the bytes go: the decisions are :mod:`._transfer`'s,
the attempts :mod:`._receive`'s (one ``Run``, resumes, redirects, the deadline), and the file
:mod:`._staging`'s. Failures never carry the key (see :class:`._transfer.Tries`).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx

from ._config import Timeout
from ._http import USER_AGENT, Lanes
from ._receive import Memory, Offloaded, Passing, Run, achunks, chunks
from ._staging import astaged, destination, staged
from ._threads import off_loop
from ._transfer import DEFAULT_MAX_BYTES, DEFAULT_READ_MAX_BYTES, ApiKey, Plan, Progress, check_options, video_url


class _Downloading:
    """What both downloaders share: the key and its reach, the default deadline, the arguments' checks."""

    _pool: object  # None: detached

    def __init__(self, key: ApiKey | None, timeout: Timeout | None) -> None:
        self._key = key
        self._timeout = timeout or Timeout()

    def __reduce__(self) -> tuple[Any, ...]:
        # A client's downloader holds its pool and key (see the clients); a detached one is its
        # timeout alone (a key given to it is left behind: it could only ever send it to no one).
        if not self.detached:
            raise TypeError(
                f"{type(self).__name__} cannot be pickled: it holds its client's connection pool and the API "
                "key. Pickle the Video instead: it is restored with a detached downloader, which sends no key"
            )
        return (type(self), (), {"_timeout": self._timeout})

    @property
    def detached(self) -> bool:
        """True when made without a client: a connection of its own for each download, and no key."""
        return self._pool is None

    def _plan(self, url: str, options: dict[str, object], target: Path | None = None) -> Plan:
        """Check a download's options and URL, before anything is fetched or written.

        Raises:
            InvalidParameterError: an option is wrong (``ParameterTypeError`` for its type).
            DownloadError: the URL is not a valid http(s) URL.
        """
        checked = check_options(default=self._timeout, **options)
        return Plan(url, video_url(url), target, *checked, key=self._key)


class Downloader(_Downloading):
    """What a video downloads with: a client's connection pool, its key, its timeout.

    The key goes only to the API's own origin. ``Downloader()``, made without a client, opens a
    connection of its own for each download and sends no key.
    """

    _pool: Lanes[httpx.Client] | None

    def __init__(
        self,
        http: httpx.Client | Lanes[httpx.Client] | None = None,
        *,
        key: ApiKey | None = None,
        timeout: Timeout | None = None,
    ) -> None:
        super().__init__(key, timeout)
        self._pool = Lanes([http]) if isinstance(http, httpx.Client) else http

    def download(
        self,
        url: str,
        request_id: str | None,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Path:
        """Check the arguments, then save the video at `url` in `dest` (see :meth:`Video.download`)."""
        options: dict[str, object] = {
            "overwrite": overwrite,
            "progress": progress,
            "timeout": timeout,
            "max_bytes": max_bytes,
        }
        target = destination(dest, url, request_id)
        plan = self._plan(url, options, target)
        with self._connection() as http, staged(target, url, plan.overwrite) as partial:
            for _ in chunks(http, Run(plan, partial)):
                pass
        return target

    def read(
        self,
        url: str,
        *,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_READ_MAX_BYTES,
    ) -> bytes:
        """Check the options, then return the video at `url`, whole (see :meth:`Video.read`)."""
        options: dict[str, object] = {"progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        plan = self._plan(url, options)
        memory = Memory()
        with self._connection() as http:
            for _ in chunks(http, Run(plan, memory)):
                pass
        return memory.value()

    def iter_bytes(
        self,
        url: str,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Generator[bytes, None, None]:
        """Check the options now, then yield the video at `url` chunk by chunk (see :meth:`Video.iter_bytes`)."""
        options: dict[str, object] = {
            "chunk_size": chunk_size,
            "progress": progress,
            "timeout": timeout,
            "max_bytes": max_bytes,
        }
        return self._stream(self._plan(url, options))

    def _stream(self, plan: Plan) -> Generator[bytes, None, None]:
        with self._connection() as http:
            yield from chunks(http, Run(plan, Passing(plan.url)))

    @contextlib.contextmanager
    def _connection(self) -> Iterator[httpx.Client]:
        """The client's pool, or, detached, a connection of this download's own."""
        if self._pool is not None:
            yield self._pool.next()
            return
        from ._backends import watch  # noqa: PLC0415 - httpcore comes with the first client (see _backends)

        with httpx.Client(headers={"User-Agent": USER_AGENT}) as http:
            watch(http)  # its requests' heads are bounded by the deadline, as on the SDK's own pools
            yield http


class AsyncDownloader(_Downloading):
    """The asyncio :class:`Downloader`: its downloads take the client's connection pools in turn."""

    _pool: Lanes[httpx.AsyncClient] | None

    def __init__(
        self,
        lanes: Lanes[httpx.AsyncClient] | None = None,
        *,
        key: ApiKey | None = None,
        timeout: Timeout | None = None,
    ) -> None:
        super().__init__(key, timeout)
        self._pool = lanes

    async def download(
        self,
        url: str,
        request_id: str | None,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Path:
        """:meth:`Downloader.download`, awaited."""
        options: dict[str, object] = {
            "overwrite": overwrite,
            "progress": progress,
            "timeout": timeout,
            "max_bytes": max_bytes,
        }
        # Every look at the file system, each write and the final fsync run off the event loop.
        target = await off_loop(functools.partial(destination, dest, url, request_id))
        plan = self._plan(url, options, target)
        async with self._connection() as http, astaged(target, url, plan.overwrite) as partial:
            async for _ in achunks(http, Run(plan, Offloaded(partial))):
                pass
        return target

    async def read(
        self,
        url: str,
        *,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_READ_MAX_BYTES,
    ) -> bytes:
        """:meth:`Downloader.read`, awaited."""
        options: dict[str, object] = {"progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        plan = self._plan(url, options)
        memory = Memory()
        async with self._connection() as http:
            async for _ in achunks(http, Run(plan, memory)):
                pass
        return memory.value()

    def iter_bytes(
        self,
        url: str,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> AsyncGenerator[bytes, None]:
        """:meth:`Downloader.iter_bytes` for ``async for``: the options are checked now, at the call."""
        options: dict[str, object] = {
            "chunk_size": chunk_size,
            "progress": progress,
            "timeout": timeout,
            "max_bytes": max_bytes,
        }
        return self._stream(self._plan(url, options))

    async def _stream(self, plan: Plan) -> AsyncGenerator[bytes, None]:
        async with self._connection() as http, contextlib.aclosing(achunks(http, Run(plan, Passing(plan.url)))) as body:
            async for chunk in body:
                yield chunk

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[httpx.AsyncClient]:
        """The client's next pool, or, detached, a connection of this download's own."""
        if self._pool is not None:
            yield self._pool.next()
            return
        async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}) as http:
            yield http
