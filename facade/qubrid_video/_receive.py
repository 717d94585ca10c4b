"""Receiving a video's bytes: one :class:`Run` of attempts into a :class:`Sink`, and the loops that drive it.

A run is the same whatever keeps the bytes: a temporary file (``download()``, :mod:`._staging`),
memory (``read()``, :class:`Memory`) or the caller's loop (``iter_bytes()``, :class:`Passing`).
The sync loop :func:`chunks` and the async loop :func:`achunks` only send the run's requests,
hand it what comes back, and yield each chunk it took. Redirects are followed one hop at a
time, so that a redirect's body is never read and the key's reach is decided at each hop.

One deadline bounds the whole run, resumes and redirects included, and for ``iter_bytes()``
the time the caller spends between chunks too: from the first byte of each request, through the
answer's head, to the last byte of its body. The sync loop sends each request within an
:class:`._wire.Attempt` (the SDK's own pools give each socket operation only the time left, as a
generation's do) and ends a blocked read with :class:`Cutoff`; the async loop bounds each await
by the time left, never a ``yield``, so a deadline never cancels the caller's own code between chunks.

A refusal (a :class:`DownloadError` raised while an answer is open) is raised again only once the
answer is closed and out of every frame of its traceback: httpcore's copy of the request, which an
open answer holds, carries the key in clear (see :func:`_attempt`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, Protocol, TypeVar, cast

import httpx

from ._config import Deadline
from ._errors import DownloadError, DownloadTimeoutError
from ._threads import off_loop
from ._transfer import Plan, Start, Transfer, Tries
from ._wire import Attempt, Cutoff

_CHANGED = "the video changed on the server during the download"
_BATCH = 1 << 20  # bytes of writes an Offloaded sink hands its thread at once
# ...or fewer, once the oldest has waited this long: a slow download still reaches the disk as it
# arrives (a file that shows its progress, and little held in memory when the run is stopped).
_LAG = 0.2
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
    """A sink keeping the video in memory, for ``read()``, at little more than its size at any time.

    One ``io.BytesIO`` grows in place (a large buffer is reallocated, not copied, by the C library)
    and ``getvalue()`` hands its buffer over as the ``bytes`` returned, without a copy. Chunks kept
    in a list and joined at the end would need twice the video's size for a moment.
    """

    def __init__(self) -> None:
        self._buffer = io.BytesIO()

    def write(self, chunk: bytes) -> None:
        """Keep `chunk`."""
        self._buffer.write(chunk)

    def restart(self) -> None:
        """Drop what was kept."""
        self._buffer = io.BytesIO()

    def commit(self) -> None:
        """Nothing to do: :meth:`value` hands the buffer over."""

    def value(self) -> bytes:
        """The video's bytes (call it once, when the run is over)."""
        return self._buffer.getvalue()


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


class Offloaded:
    """A sink for the async loop whose work runs on a worker thread (the file's, for ``download()``).

    The run's calls only queue the work; :meth:`settle`, which the async loop awaits after each
    call of the run that may reach the sink, does it off the event loop, in order. Writes go in
    batches of about 1 MiB (or what came within 0.2 s, for a slow download): a thread hop per
    network chunk cost a third of the throughput. The file side stays :class:`._staging.Partial`'s,
    and the run's decisions are the sync loop's.
    """

    def __init__(self, inner: Sink) -> None:
        self._inner = inner
        self._queued: list[Callable[[], None]] = []
        self._held = 0  # bytes queued
        self._due = False  # a restart or the commit is queued: do it now
        self._since = 0.0  # when the oldest write still queued was queued

    def write(self, chunk: bytes) -> None:
        """Queue the write of `chunk`."""
        if not self._held:
            self._since = time.monotonic()
        self._queued.append(functools.partial(self._inner.write, chunk))
        self._held += len(chunk)

    def restart(self) -> None:
        """Queue emptying the file."""
        self._queued.append(self._inner.restart)
        self._due = True

    def commit(self) -> None:
        """Queue the fsync and the move into place (with the writes before them)."""
        self._queued.append(self._inner.commit)
        self._due = True

    async def settle(self) -> None:
        """Do the queued work on a worker thread once a batch is due; raises what it raised."""
        if self._due or self._held >= _BATCH or (self._held and time.monotonic() - self._since >= _LAG):
            work, self._queued, self._held, self._due = self._queued, [], 0, False
            await off_loop(functools.partial(_each, work))


def _each(work: list[Callable[[], None]]) -> None:
    for step in work:
        step()


async def _settled(run: Run) -> None:
    """Await the file work `run`'s last step queued, if its sink is :class:`Offloaded`."""
    if isinstance(run.sink, Offloaded):
        await run.sink.settle()


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

    def hop(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """This attempt's next request, as options of ``build_request()`` and of ``send()``; None once it is over."""
        if self._url is None:
            return None
        request = {
            "method": "GET",
            "url": self._url,
            "headers": self.transfer.headers(),
            "timeout": self.plan.timeout.for_attempt(self.deadline.remaining()),
        }
        sending: dict[str, Any] = {"follow_redirects": False, "stream": True}
        if self._keyed:
            sending["auth"] = self.plan.key  # httpx's auth flow adds the key, and redacts it after
        return request, sending

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


def chunks(http: httpx.Client, run: Run) -> Generator[bytes, None, None]:
    """Each chunk `run` takes, through all its attempts; at the end the run is finished (committed or raised).

    Closing the generator early closes the connection being read (its body was not read whole).
    """
    with Cutoff(run.deadline.remaining()) as cutoff:
        while run.another():
            with run.tries:
                yield from _attempt(http, run, cutoff)
        run.finish()


def _attempt(http: httpx.Client, run: Run, cutoff: Cutoff) -> Generator[bytes, None, None]:
    """One attempt: a request and its redirects, then the body, each chunk taken as it arrives.

    A :class:`DownloadError` raised while an answer is open is kept until the answer is closed and
    no local holds it, then raised with its traceback cut here: the frames it was raised through
    (``Run.opened``, httpx's, contextlib's) hold the answer, whose httpcore request has the key in
    clear, and a same-origin redirect's ``next_request`` too.
    """
    while (hop := run.hop()) is not None:
        refused: DownloadError | None = None
        with contextlib.ExitStack() as stack:
            request = http.build_request(**hop[0], extensions={"trace": cutoff.trace})
            # The SDK's own pools give every socket operation of the request and its head only the time left.
            with Attempt(run.deadline, http, request):
                answer = http.send(request, **hop[1])
            stack.callback(answer.close)
            stack.enter_context(cutoff.watching(answer))  # left first: before the answer closes
            try:
                if run.opened(answer):
                    for chunk in answer.iter_raw(run.plan.chunk_size):
                        run.take(chunk)
                        yield chunk
            except DownloadError as exc:
                refused = exc
        del answer, request
        if refused is not None:
            raise refused.with_traceback(None)


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
    await _settled(run)


async def _aattempt(http: httpx.AsyncClient, run: Run) -> AsyncGenerator[bytes, None]:
    """One attempt of the async loop; a refusal is raised as :func:`_attempt` raises it."""
    while (hop := run.hop()) is not None:
        refused: DownloadError | None = None
        async with contextlib.AsyncExitStack() as stack:
            answer = await _within(run, http.send(http.build_request(**hop[0]), **hop[1]))
            stack.push_async_callback(answer.aclose)
            try:
                opened = run.opened(answer)
                await _settled(run)
                if opened:
                    # httpx types it as an iterator; it is an async generator, closed here, not left to the GC.
                    body = cast(AsyncGenerator[bytes, None], answer.aiter_raw(run.plan.chunk_size))
                    stack.push_async_callback(body.aclose)
                    while (chunk := await _within(run, anext(body, None))) is not None:
                        run.take(chunk)
                        await _settled(run)
                        yield chunk
            except DownloadError as exc:
                refused = exc
        del answer
        if refused is not None:
            raise refused.with_traceback(None)
