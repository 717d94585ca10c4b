"""Download a video: stream it to a temporary file, resume after drops, move it into place when whole.

The decisions are :mod:`._transfer`'s and the file is :mod:`._staging`'s; this module moves the
bytes. It follows redirects itself, one hop at a time, so that a redirect's body is never read,
and so that it decides at each hop whether the key may go (only while on the API's own origin).
One deadline bounds the whole download, resumes and redirects included.

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
from ._transfer import MAX_RESUMES, ApiKey, Plan, Start, Transfer, check_options, video_url

_CHANGED = "the video changed on the server during the download"


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
        DownloadError: the URL is not a valid http(s) URL, or the file system refused `dest`.
    """
    options = check_options(overwrite, progress, timeout, max_bytes, default_timeout)
    target = destination(dest, url, request_id)
    return Plan(url, video_url(url), target, *options, key=key)


def _told(exc: httpx.HTTPError) -> httpx.HTTPError:
    """`exc`'s type and message alone: no request, no traceback, no chain."""
    return type(exc)(str(exc))


def _permanent(exc: httpx.HTTPError) -> str | None:
    """Why retrying cannot help after `exc`, or None when it may (a dropped connection, a timeout)."""
    # httpx builds a redirect's request as soon as the answer arrives, even when not following it,
    # and reports a Location it cannot parse as a RemoteProtocolError raised while handling InvalidURL.
    if isinstance(exc, httpx.RemoteProtocolError) and isinstance(exc.__context__, httpx.InvalidURL):
        return "an invalid redirect: its Location is not a valid URL"
    if isinstance(exc, httpx.UnsupportedProtocol) or not isinstance(exc, httpx.TransportError):
        return f"the download failed ({type(exc).__name__})"
    return None


class _Run:
    """One download under way: its plan, what has arrived, the file being written, the deadline."""

    def __init__(self, plan: Plan, partial: Partial, deadline: Deadline) -> None:
        self.plan = plan
        self.url = plan.url
        self.transfer = Transfer(self.url, plan.max_bytes)
        self.partial = partial
        self.deadline = deadline

    def request(self, keyed: bool) -> dict[str, Any]:
        """Options for the next request; httpx's auth flow adds the key when `keyed`."""
        options: dict[str, Any] = {
            "headers": self.transfer.headers(),
            "timeout": self.plan.timeout.for_attempt(self.deadline.remaining()),
            "follow_redirects": False,
        }
        if keyed:
            options["auth"] = self.plan.key
        return options

    def begin(self, answer: httpx.Response) -> DownloadError | None:
        """Prepare the file for `answer`'s body; the failure to retry when the file changed on the server."""
        start = self.transfer.begin(answer)
        if start is Start.AGAIN:
            return DownloadError(_CHANGED, url=self.url)
        if start is Start.FRESH:
            self.partial.restart()
        return None

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
        reason = str(failure) if isinstance(failure, DownloadError) else type(failure).__name__
        return DownloadError(f"the download kept failing ({reason})", url=self.url)

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


def _follow(http: httpx.Client, run: _Run, cutoff: _Cutoff) -> DownloadError | None:
    url, keyed = run.plan.first_hop()
    hops = 0
    while True:  # Transfer.redirect ends it after MAX_REDIRECTS hops
        options = run.request(keyed)
        with http.stream("GET", url, **options) as answer, cutoff.watching(answer):
            target = run.transfer.redirect(answer, hops)
            if target is None:
                again = run.begin(answer)
                if again is not None:
                    return again
                for chunk in answer.iter_raw():
                    run.take(chunk)
                    if run.deadline.remaining() <= 0:
                        raise run.failed(None)
                return None
        url, keyed = run.plan.next_hop(target, keyed)
        hops += 1


def _attempt(http: httpx.Client, run: _Run, cutoff: _Cutoff) -> Exception | None:
    """One request and its redirects: None once the body arrived whole, else the failure, to retry."""
    try:
        return _follow(http, run, cutoff)
    except httpx.HTTPError as exc:
        failure, permanent = _told(exc), _permanent(exc)
    if permanent is not None:
        raise DownloadError(permanent, url=run.url) from failure
    return failure


def download(http: httpx.Client, plan: Plan) -> Path:
    """Fetch ``plan.url`` into ``plan.target`` with `http`, resuming up to MAX_RESUMES times after a drop."""
    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial, _Cutoff(deadline.remaining()) as cutoff:
        run = _Run(plan, partial, deadline)
        failure: Exception | None = None
        for _ in range(MAX_RESUMES + 1):
            failure = _attempt(http, run, cutoff)
            if failure is None or deadline.remaining() <= 0:
                break
        if failure is not None:
            raise run.failed(failure) from failure
        run.finish()
    return plan.target


async def _afollow(http: httpx.AsyncClient, run: _Run) -> DownloadError | None:
    url, keyed = run.plan.first_hop()
    hops = 0
    while True:  # Transfer.redirect ends it after MAX_REDIRECTS hops
        async with http.stream("GET", url, **run.request(keyed)) as answer:
            target = run.transfer.redirect(answer, hops)
            if target is None:
                again = run.begin(answer)
                if again is not None:
                    return again
                async for chunk in answer.aiter_raw():
                    run.take(chunk)
                return None
        url, keyed = run.plan.next_hop(target, keyed)
        hops += 1


async def _aattempt(http: httpx.AsyncClient, run: _Run) -> Exception | None:
    """The async twin of :func:`_attempt`."""
    try:
        return await _afollow(http, run)
    except httpx.HTTPError as exc:
        failure, permanent = _told(exc), _permanent(exc)
    if permanent is not None:
        raise DownloadError(permanent, url=run.url) from failure
    return failure


async def adownload(http: httpx.AsyncClient, plan: Plan) -> Path:
    """The async twin of :func:`download`; the deadline cancels whatever is awaited when it passes."""
    # Imported here: asyncio alone would double `import qubrid_video` for sync users.
    import asyncio  # noqa: PLC0415

    deadline = Deadline(plan.timeout.total)
    with staged(plan.target, plan.url, plan.overwrite) as partial:
        run = _Run(plan, partial, deadline)
        failure: Exception | None = None
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
