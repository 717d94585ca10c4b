"""Download a video: stream it to a temporary file, resume after drops, move it into place when whole.

The decisions are :mod:`._transfer`'s and the file is :mod:`._staging`'s; this module moves the
bytes, within one deadline for the whole download, resumes and redirects included.

Failures never carry the key. An httpx error holds its request (whose headers held the key) and a
traceback whose frames' locals error trackers record; so a DownloadError is chained to a copy of it
made of its type and message only, and raised outside the ``except`` block, so that the original
is not kept as its context either.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ._config import Deadline, Timeout
from ._errors import DownloadError, DownloadTimeoutError
from ._staging import Partial, destination, staged
from ._transfer import MAX_RESUMES, ApiKey, Plan, Transfer, check_options


def plan(
    url: str,
    request_id: str | None,
    dest: object,
    *,
    overwrite: object,
    progress: object,
    timeout: object,
    max_bytes: object,
    default_timeout: Timeout,
    key: ApiKey | None,
) -> Plan:
    """Check a download's arguments, before anything is fetched or written.

    Raises:
        InvalidParameterError: an argument is wrong (``ParameterTypeError`` for its type).
        DownloadError: the file system refused `dest`.
    """
    options = check_options(overwrite, progress, timeout, max_bytes, default_timeout)
    target = destination(dest, url, request_id)
    return Plan(url, httpx.URL(url), target, *options, key=key)


def _told(exc: httpx.TransportError) -> httpx.TransportError:
    """`exc`'s type and message alone: no request, no traceback, no chain."""
    return type(exc)(str(exc))


class _Run:
    """One download under way: its plan, what has arrived, the file being written, the deadline."""

    def __init__(self, plan: Plan, partial: Partial, deadline: Deadline) -> None:
        self.plan = plan
        self.url = plan.url
        self.transfer = Transfer(self.url, plan.max_bytes)
        self.partial = partial
        self.deadline = deadline

    def request(self) -> dict[str, Any]:
        """Options for the next request: the time left, and the key for the API's own origin only.

        httpx's auth flow adds the key; httpx drops it when a redirect leaves the origin (it keeps
        it only for an http->https upgrade on the same host).
        """
        options: dict[str, Any] = {
            "headers": self.transfer.headers(),
            "timeout": self.plan.timeout.for_attempt(self.deadline.remaining()),
            "follow_redirects": True,
        }
        if self.plan.key is not None and self.plan.key.covers(self.plan.address):
            options["auth"] = self.plan.key
        return options

    def begin(self, answer: httpx.Response) -> None:
        """Prepare the file for `answer`'s body."""
        if not self.transfer.begin(answer):
            self.partial.restart()

    def take(self, chunk: bytes) -> None:
        """Write a chunk of the body, within max_bytes, and report progress."""
        self.transfer.admit(len(chunk))
        self.partial.write(chunk)
        self.transfer.written += len(chunk)
        if self.plan.progress is not None:
            self.plan.progress(self.transfer.written, self.transfer.total)

    def failed(self, failure: Exception | None, *, expired: bool = False) -> DownloadError:
        """The error for a download out of time (past the deadline, or `expired`) or out of attempts."""
        if expired or self.deadline.remaining() <= 0:
            return DownloadTimeoutError(f"the download did not finish within {self.deadline.seconds:g} s", url=self.url)
        return DownloadError(f"the download kept failing ({type(failure).__name__})", url=self.url)

    def finish(self) -> None:
        """Check that the whole file arrived, and move it into place."""
        self.transfer.check_complete()
        self.partial.commit()


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


def _attempt(http: httpx.Client, run: _Run, cutoff: _Cutoff) -> httpx.TransportError | None:
    """One request: None once the body arrived whole, else the failure, to retry."""
    try:
        with http.stream("GET", run.plan.address, **run.request()) as answer, cutoff.watching(answer):
            run.begin(answer)
            for chunk in answer.iter_raw():
                run.take(chunk)
                if run.deadline.remaining() <= 0:
                    raise run.failed(None)
        return None
    except httpx.TransportError as exc:
        return _told(exc)


def download(http: httpx.Client, plan: Plan) -> Path:
    """Fetch ``plan.url`` into ``plan.target`` with `http`, resuming up to MAX_RESUMES times after a drop."""
    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial, _Cutoff(deadline.remaining()) as cutoff:
        run = _Run(plan, partial, deadline)
        failure: httpx.TransportError | None = None
        for _ in range(MAX_RESUMES + 1):
            failure = _attempt(http, run, cutoff)
            if failure is None or deadline.remaining() <= 0:
                break
        if failure is not None:
            # Raised here, not in the except block, so the original is not kept as its context.
            raise run.failed(failure) from failure
        run.finish()
    return plan.target


async def _aattempt(http: httpx.AsyncClient, run: _Run) -> httpx.TransportError | None:
    """The async twin of :func:`_attempt`."""
    try:
        async with http.stream("GET", run.plan.address, **run.request()) as answer:
            run.begin(answer)
            async for chunk in answer.aiter_raw():
                run.take(chunk)
        return None
    except httpx.TransportError as exc:
        return _told(exc)


async def adownload(http: httpx.AsyncClient, plan: Plan) -> Path:
    """The async twin of :func:`download`; the deadline cancels whatever is awaited when it passes."""
    # Imported here: asyncio alone would double `import qubrid_video` for sync users.
    import asyncio  # noqa: PLC0415

    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial:
        run = _Run(plan, partial, deadline)
        failure: httpx.TransportError | None = None
        expired = False
        timer = asyncio.timeout(deadline.remaining())
        try:
            async with timer:
                for _ in range(MAX_RESUMES + 1):
                    failure = await _aattempt(http, run)
                    if failure is None:
                        break
        except TimeoutError:
            if not timer.expired():
                raise
            expired = True  # raised below, outside this block: the cancelled read is not its context
        if expired or failure is not None:
            raise run.failed(failure, expired=expired) from failure
        run.finish()
    return plan.target
