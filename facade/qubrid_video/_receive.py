"""Receiving a video's bytes: one :class:`Run` of attempts into a :class:`Sink`, and the loops that drive it.

A run is the same whatever keeps the bytes: a temporary file (``download()``, :mod:`._staging`),
memory (``read()``, :class:`Memory`) or the caller's loop (``iter_bytes()``, :class:`Passing`).
The sync loop :func:`chunks` and the async loop :func:`achunks` only send the run's requests,
hand it what comes back, and yield each chunk it took. Redirects are followed one hop at a
time, so that a redirect's body is never read and the key's reach is decided at each hop.

One deadline bounds the whole run, resumes and redirects included, and for ``iter_bytes()``
the time the caller spends between chunks too. The sync loop ends a blocked read with
:class:`_Cutoff`; the async loop bounds each await by the time left, never a ``yield``, so a
deadline never cancels the caller's own code between chunks.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import AsyncGenerator, Awaitable, Generator, Iterator
from typing import Any, Protocol, TypeVar, cast

import httpx

from ._config import Deadline
from ._errors import DownloadError, DownloadTimeoutError
from ._transfer import Plan, Start, Transfer, Tries

_CHANGED = "the video changed on the server during the download"
T = TypeVar("T")


class Sink(Protocol):
    """Where a run's bytes go (:class:`._staging.Partial` is the file's)."""

    def write(self, chunk: bytes) -> None:
        """Keep `chunk`, after those before it."""

    def restart(self) -> None:
        """Drop what was kept: the video starts over."""

    def commit(self) -> None:
        """The whole video arrived."""


class Memory:
    """A sink keeping the video in memory, for ``read()``."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        """Keep `chunk`."""
        self._chunks.append(chunk)

    def restart(self) -> None:
        """Drop what was kept."""
        self._chunks.clear()

    def commit(self) -> None:
        """Nothing to do: :meth:`value` joins the chunks."""

    def value(self) -> bytes:
        """The video's bytes."""
        return b"".join(self._chunks)


class Passing:
    """A sink for ``iter_bytes()``: each chunk goes on to the caller, so the video can never start over."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._passed = 0

    def write(self, chunk: bytes) -> None:
        """Count `chunk`: the loop yields it."""
        self._passed += len(chunk)

    def restart(self) -> None:
        """Refuse to start over once bytes were handed on: the caller would get two videos spliced.

        Raises:
            DownloadError: some bytes were yielded already.
        """
        if self._passed:
            raise DownloadError(
                f"could not continue the video after the {self._passed} bytes already yielded: the server "
                "sent it from the start or another version of it (use download() or read() to start over)",
                url=self._url,
            )

    def commit(self) -> None:
        """Nothing to do: every chunk was handed on."""


class Run:
    """One download under way: its plan, its attempts, what has arrived, where the bytes go.

    The sync and async loops share it: they only send its requests and hand it what comes back.
    """

    def __init__(self, plan: Plan, sink: Sink) -> None:
        self.plan = plan
        self.sink = sink
        self.deadline = Deadline(plan.timeout.total)
        self.transfer = Transfer(plan.url, plan.max_bytes)
        self.tries = Tries(plan.url, self.deadline)
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
            DownloadError: an answer that cannot be the video (see :meth:`Transfer.begin`), or one
                that starts the video over when the sink cannot (:meth:`Passing.restart`).
        """
        target = self.transfer.redirect(answer, self._hops)
        if target is not None:
            self._url, self._keyed = self.plan.next_hop(target, self._keyed)
            self._hops += 1
            return False
        self._url = None
        start = self.transfer.begin(answer)
        if start is not Start.RESUME:
            self.sink.restart()
        if start is Start.AGAIN:
            self.tries.failure = DownloadError(_CHANGED, url=self.plan.url)
            return False
        return True

    def take(self, chunk: bytes) -> None:
        """Keep a chunk of the body, within max_bytes and the deadline, and report progress."""
        self.transfer.admit(len(chunk))
        self.sink.write(chunk)
        self.transfer.written += len(chunk)
        if self.plan.progress is not None:
            self.plan.progress(self.transfer.written, self.transfer.total)
        if self.deadline.remaining() <= 0:
            raise self._failed(None)

    def finish(self) -> None:
        """Commit the whole video, or raise what ended the attempts (out of time, or of tries)."""
        failure = self.tries.failure
        if self.expired or failure is not None:
            raise self._failed(failure) from failure
        self.transfer.check_complete()
        self.sink.commit()

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


def chunks(http: httpx.Client, run: Run) -> Generator[bytes, None, None]:
    """Each chunk `run` takes, through all its attempts; at the end the run is finished (committed or raised).

    Closing the generator early closes the connection being read (its body was not read whole).
    """
    with _Cutoff(run.deadline.remaining()) as cutoff:
        while run.another():
            with run.tries:
                yield from _attempt(http, run, cutoff)
        run.finish()


def _attempt(http: httpx.Client, run: Run, cutoff: _Cutoff) -> Generator[bytes, None, None]:
    """One attempt: a request and its redirects, then the body, each chunk taken as it arrives."""
    while (hop := run.hop()) is not None:
        with http.stream("GET", hop[0], **hop[1]) as answer, cutoff.watching(answer):
            if run.opened(answer):
                for chunk in answer.iter_raw(run.plan.chunk_size):
                    run.take(chunk)
                    yield chunk


class _Expired(Exception):
    """The deadline passed during an await of the async loop; raised once the cancelled await is over."""


async def _within(run: Run, step: Awaitable[T]) -> T:
    """Await `step` for no longer than the time `run` has left.

    Raises:
        _Expired: the deadline passed first (raised outside the ``except`` block, so that the
            cancelled read's frames are not kept as its context).
    """
    # Imported here: asyncio alone would double `import qubrid_video` for sync users.
    import asyncio  # noqa: PLC0415

    timer = asyncio.timeout(run.deadline.remaining())
    try:
        async with timer:
            return await step
    except TimeoutError:
        if not timer.expired():
            raise
    run.expired = True
    raise _Expired


async def achunks(http: httpx.AsyncClient, run: Run) -> AsyncGenerator[bytes, None]:
    """:func:`chunks` for asyncio: each await is bounded by the time left, never a ``yield``.

    Closing the generator early (``aclose()``) closes the connection being read.
    """
    try:
        while run.another():
            with run.tries:
                async with contextlib.aclosing(_aattempt(http, run)) as attempt:
                    async for chunk in attempt:
                        yield chunk
    except _Expired:
        pass  # finish() reports it, outside this block: the cancelled read is not its context
    run.finish()


async def _aattempt(http: httpx.AsyncClient, run: Run) -> AsyncGenerator[bytes, None]:
    """One attempt of the async loop (see :func:`_attempt`)."""
    while (hop := run.hop()) is not None:
        async with contextlib.AsyncExitStack() as stack:
            answer = await _within(run, stack.enter_async_context(http.stream("GET", hop[0], **hop[1])))
            if run.opened(answer):
                # httpx types it as an iterator; it is an async generator, closed here, not left to the GC.
                body = cast(AsyncGenerator[bytes, None], answer.aiter_raw(run.plan.chunk_size))
                stack.push_async_callback(body.aclose)
                while (chunk := await _within(run, anext(body, None))) is not None:
                    run.take(chunk)
                    yield chunk
