"""Download a video: stream it to a temporary file, resume after drops, move it into place when whole.

A :class:`Downloader` (an :class:`AsyncDownloader` for asyncio) is what a ``Video`` downloads
with: its client's connection pool, the key for the API's own origin only, and the client's
timeout as the default deadline. Made without arguments (an unpickled video's), it opens a
connection of its own for each download and never sends a key.

The decisions are :mod:`._transfer`'s and the file is :mod:`._staging`'s; this module moves the
bytes, with one :class:`_Run` shared by the sync and async loops. Redirects are followed one hop
at a time, so that a redirect's body is never read and the key's reach is decided at each hop.
One deadline bounds the whole download, resumes and redirects included. Failures never carry
the key (see :class:`._transfer.Tries`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from ._config import Deadline, Timeout
from ._errors import DownloadError, DownloadTimeoutError
from ._http import USER_AGENT, Lanes
from ._staging import Partial, destination, staged
from ._transfer import DEFAULT_MAX_BYTES, ApiKey, Plan, Progress, Start, Transfer, Tries, check_options, video_url

_CHANGED = "the video changed on the server during the download"


class _Downloading:
    """What both downloaders share: the key and its reach, the default deadline, the arguments' checks."""

    _pool: object  # None: detached

    def __init__(self, key: ApiKey | None, timeout: Timeout | None) -> None:
        self._key = key
        self._timeout = timeout or Timeout()

    @property
    def detached(self) -> bool:
        """True when made without a client: a connection of its own for each download, and no key."""
        return self._pool is None

    def _plan(self, url: str, request_id: str | None, dest: object, options: Mapping[str, object]) -> Plan:
        """Check a download's arguments, before anything is fetched or written.

        Raises:
            InvalidParameterError: an argument is wrong (``ParameterTypeError`` for its type).
            DownloadError: the URL is not a valid http(s) URL, or the file system refused `dest`.
        """
        checked = check_options(default=self._timeout, **options)
        target = destination(dest, url, request_id)
        return Plan(url, video_url(url), target, *checked, key=self._key)


class Downloader(_Downloading):
    """What a video downloads with: a client's connection pool, its key, its timeout.

    The key goes only to the API's own origin. ``Downloader()``, made without a client, opens a
    connection of its own for each download and sends no key.
    """

    _pool: httpx.Client | None

    def __init__(self, http: httpx.Client | None = None, *, key: ApiKey | None = None, timeout: Timeout | None = None):
        super().__init__(key, timeout)
        self._pool = http

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
        options = {"overwrite": overwrite, "progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        job = self._plan(url, request_id, dest, options)
        if self._pool is not None:
            return _save(self._pool, job)
        with httpx.Client(headers={"User-Agent": USER_AGENT}) as http:
            return _save(http, job)


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
        options = {"overwrite": overwrite, "progress": progress, "timeout": timeout, "max_bytes": max_bytes}
        job = self._plan(url, request_id, dest, options)
        if self._pool is not None:
            return await _asave(self._pool.next(), job)
        async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}) as http:
            return await _asave(http, job)


class _Run:
    """One download under way: its plan, its attempts, what has arrived, the file being written.

    The sync and async loops share it: they only send its requests and hand it what comes back.
    """

    def __init__(self, plan: Plan, partial: Partial, deadline: Deadline) -> None:
        self.plan = plan
        self.partial = partial
        self.deadline = deadline
        self.transfer = Transfer(plan.url, plan.max_bytes)
        self.tries = Tries(plan.url, deadline)
        self.expired = False  # the async loop's deadline cancelled what it awaited
        self._url: httpx.URL | None = None  # the attempt's next hop; None once it is over
        self._keyed = False  # whether the key goes with it
        self._hops = 0

    def another(self) -> bool:
        """Whether to make another attempt, which starts at the video's URL (see :meth:`Tries.another`)."""
        if not self.tries.another():
            return False
        (self._url, self._keyed), self._hops = self.plan.first_hop(), 0
        return True

    def hop(self) -> tuple[httpx.URL, dict[str, Any]] | None:
        """The URL and request options of this attempt's next request, or None once it is over."""
        if self._url is None:
            return None
        options: dict[str, Any] = {
            "headers": self.transfer.headers(),
            "timeout": self.plan.timeout.for_attempt(self.deadline.remaining()),
            "follow_redirects": False,
        }
        if self._keyed:
            options["auth"] = self.plan.key  # httpx's auth flow adds the key, and redacts it after
        return self._url, options

    def opened(self, answer: httpx.Response) -> bool:
        """Whether `answer`'s body is the video's to read; after a redirect, the next hop follows it.

        Raises:
            DownloadError: an answer that cannot be the video (see :meth:`Transfer.begin`).
        """
        target = self.transfer.redirect(answer, self._hops)
        if target is not None:
            self._url, self._keyed = self.plan.next_hop(target, self._keyed)
            self._hops += 1
            return False
        self._url = None
        start = self.transfer.begin(answer)
        if start is Start.AGAIN:
            self.tries.failure = DownloadError(_CHANGED, url=self.plan.url)
            return False
        if start is Start.FRESH:
            self.partial.restart()
        return True

    def take(self, chunk: bytes) -> None:
        """Write a chunk of the body, within max_bytes and the deadline, and report progress."""
        self.transfer.admit(len(chunk))
        self.partial.write(chunk)
        self.transfer.written += len(chunk)
        if self.plan.progress is not None:
            self.plan.progress(self.transfer.written, self.transfer.total)
        if self.deadline.remaining() <= 0:
            raise self._failed(None)

    def finish(self) -> None:
        """Move the whole file into place, or raise what ended the attempts (out of time, or of tries)."""
        failure = self.tries.failure
        if self.expired or failure is not None:
            raise self._failed(failure) from failure
        self.transfer.check_complete()
        self.partial.commit()

    def _failed(self, failure: Exception | None) -> DownloadError:
        if self.expired or self.deadline.remaining() <= 0:
            return DownloadTimeoutError(f"the download did not finish within {self.deadline.seconds:g} s",
                                        url=self.plan.url)  # fmt: skip
        reason = str(failure) if isinstance(failure, DownloadError) else type(failure).__name__
        return DownloadError(f"the download kept failing ({reason})", url=self.plan.url)


class _Cutoff:
    """Ends a blocked sync read at the deadline, by shutting down the socket of the answer being read.

    httpx fixes a request's read timeout when it starts, and a server trickling bytes never trips
    it; so a timer thread shuts the socket down at the deadline, which ends a read at once. It only
    touches an HTTP/1.1 connection (one request at a time) while its body is being read, and stops
    watching before the connection can go back to the pool. Before the answer's head arrives, each
    step (connecting, waiting for the head) already has a timeout no longer than the time left.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._stream: Any = None  # the httpcore network stream being read, while its body is
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._fired = False

    def __enter__(self) -> _Cutoff:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    @contextlib.contextmanager
    def watching(self, answer: httpx.Response) -> Iterator[None]:
        """Watch the connection of `answer` while its body is read."""
        if answer.http_version == "HTTP/1.1":
            with self._lock:
                self._stream = answer.extensions.get("network_stream")
                if self._fired:
                    _shut(self._stream)
        try:
            yield
        finally:
            with self._lock:
                self._stream = None

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            _shut(self._stream)


def _shut(stream: Any) -> None:
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # socket.socket's own shutdown, also for an SSLSocket, whose override would unwrap TLS
            # under the reading thread; the kernel then ends the blocked read.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _fetch(http: httpx.Client, run: _Run, cutoff: _Cutoff) -> None:
    """One attempt: a request and its redirects, then the body, written as it arrives."""
    while (hop := run.hop()) is not None:
        with http.stream("GET", hop[0], **hop[1]) as answer, cutoff.watching(answer):
            if run.opened(answer):
                for chunk in answer.iter_raw():
                    run.take(chunk)


def _save(http: httpx.Client, plan: Plan) -> Path:
    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial, _Cutoff(deadline.remaining()) as cutoff:
        run = _Run(plan, partial, deadline)
        while run.another():
            with run.tries:
                _fetch(http, run, cutoff)
        run.finish()
    return plan.target


async def _afetch(http: httpx.AsyncClient, run: _Run) -> None:
    """One attempt of an async download (see :func:`_fetch`)."""
    while (hop := run.hop()) is not None:
        async with http.stream("GET", hop[0], **hop[1]) as answer:
            if run.opened(answer):
                async for chunk in answer.aiter_raw():
                    run.take(chunk)


async def _asave(http: httpx.AsyncClient, plan: Plan) -> Path:
    # Imported here: asyncio alone would double `import qubrid_video` for sync users.
    import asyncio  # noqa: PLC0415

    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial:
        run = _Run(plan, partial, deadline)
        # Cancelling what is awaited bounds an async read; the sync loop has _Cutoff for that.
        timer = asyncio.timeout(deadline.remaining())
        try:
            async with timer:
                while run.another():
                    with run.tries:
                        await _afetch(http, run)
        except TimeoutError:
            if not timer.expired():
                raise
            run.expired = True  # reported by finish(), outside this block: the cancelled read is not its context
        run.finish()
    return plan.target
