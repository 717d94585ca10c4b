"""What a generation attempt does on the wire, seen from inside the SDK's own connection pools.

httpx bounds each read and write by its own timeout, never by a call's total: a server that
sends one header byte every half second, or reads an upload slowly, keeps a sync call going as
long as it likes. And a failed request alone does not tell whether it went out on a pooled
connection that the server had already closed while it sat idle. So the pools the SDK creates
open their connections through a network backend that, during an :class:`Attempt`:

- gives every connect, TLS handshake, read and write no more than the time left before the
  call's deadline, and fails it once the deadline has passed (the sync client; the async one
  has ``asyncio.timeout``);
- notes whether the attempt opened a new connection, counts the answer's bytes and the time of
  the last write.

The backends themselves are in :mod:`._backends`. Outside an attempt (the body of a download)
they only pass calls through. A caller's own ``http_client`` is used as given, without them.
What they cannot bound, a :class:`Cutoff` does: a read still blocked at the deadline is ended
by shutting its socket down.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

import httpx

from ._config import Deadline


class Attempt:
    """One attempt of a call, as the wire saw it; ``with`` makes it the current thread's or task's.

    Attributes:
        deadline: The call's deadline, which bounds every socket operation; None leaves them as they are.
        connected: The attempt opened a new connection (else it used a pooled one, or none).
        handed: Bytes of request handed to the socket layer (some may not have left).
        received: Bytes of the answer received.
        last_write: When the attempt last wrote to a socket (monotonic clock); None if it never did.
    """

    __slots__ = ("_http", "_request", "_token", "connected", "deadline", "handed", "last_write", "received")

    def __init__(
        self, deadline: Deadline | None, http: httpx.Client | httpx.AsyncClient, request: httpx.Request
    ) -> None:
        self.deadline = deadline
        # Kept to be looked at only if the attempt fails: every call pays for __init__.
        self._http = http
        self._request = request
        self.connected = False
        self.handed = 0
        self.received = 0
        self.last_write: float | None = None
        self._token: Token[Attempt | None] | None = None

    def __enter__(self) -> Attempt:
        self._token = CURRENT.set(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            CURRENT.reset(self._token)

    @property
    def unsent(self) -> bool:
        """The request surely never reached the server whole: fewer bytes were handed over than its body holds.

        Only a client the SDK watches counts the bytes; through any other, nothing is sure.
        """
        length = self._request.headers.get("content-length", "")
        return watched(self._http) and length.isdigit() and self.handed < int(length)

    @property
    def reused(self) -> bool:
        """The request was written to a connection that an earlier request had used."""
        return self.last_write is not None and not self.connected

    def since_write(self) -> float:
        """Seconds since the attempt last wrote to a socket (infinite if it never did)."""
        return math.inf if self.last_write is None else time.monotonic() - self.last_write

    def budget(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """`timeout`, shortened to the time left before the deadline.

        Raises:
            expired: the deadline has passed (a zero timeout would mean "don't block", not "stop").
        """
        if self.deadline is None:
            return timeout
        left = self.deadline.remaining()
        if left <= 0:
            raise expired("the call's deadline passed")
        return left if timeout is None else min(timeout, left)


CURRENT: ContextVar[Attempt | None] = ContextVar("qubrid_video_attempt", default=None)
WATCHED: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()


def watched(client: httpx.Client | httpx.AsyncClient) -> bool:
    """Whether every socket operation of `client` is bounded by the deadline of the current :class:`Attempt`."""
    return client in WATCHED


class Cutoff:
    """Ends a blocked sync read at a deadline, by shutting down the socket of the connection in use.

    For what an :class:`Attempt` cannot bound: the reads of a download's body, which go on between
    the chunks handed to the caller, and any read on a connection of a caller's own client. httpx
    fixes a request's read timeout when it starts, and a server trickling bytes (of the head or the
    body) never trips it; so a timer thread shuts the socket down at the deadline, which ends a read
    at once. It only touches an HTTP/1.1 connection (one request at a time) while the request uses
    it: from the moment a new connection is made (the request's ``trace`` extension must be
    :meth:`trace`), or from the answer's head on a kept-alive one (:meth:`watching`), until the
    answer is closed, before the connection can go back to the pool. So on a caller's own client,
    the head of an answer on a kept-alive connection is the one read it cannot end.
    """

    def __init__(self, seconds: float | None) -> None:
        """Arm the cutoff for `seconds` from ``with``; None: it never fires (an :class:`Attempt` bounds it all)."""
        self._lock = threading.Lock()
        self._stream: Any = None  # the httpcore network stream in use, while it is this request's alone
        self._timer = None if seconds is None else threading.Timer(max(seconds, 0.0), self._fire)
        self._fired = False

    def __enter__(self) -> Cutoff:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @property
    def armed(self) -> bool:
        """Whether the cutoff can fire at all (with None seconds, watching connections is pointless)."""
        return self._timer is not None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """The trace callback for httpcore: watch a connection as soon as it is made, until its answer closes."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            # HTTP/2 multiplexes other requests over the connection: never shut it down.
            self._watch(None if ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2" else stream)
        elif event == "http11.response_closed.started" or event.startswith("http2."):
            self._watch(None)

    def watching(self, answer: httpx.Response) -> contextlib.AbstractContextManager[None]:
        """Watch the connection of `answer` while its body is read (nothing to watch when unarmed)."""
        # Unarmed (every call on the SDK's own pools), a shared no-op: a generator's setup costs more.
        return _UNWATCHED if self._timer is None else self._watching(answer)

    @contextlib.contextmanager
    def _watching(self, answer: httpx.Response) -> Iterator[None]:
        self._watch(answer.extensions.get("network_stream") if answer.http_version == "HTTP/1.1" else None)
        try:
            yield
        finally:
            self._watch(None)

    def _watch(self, stream: Any) -> None:
        with self._lock:
            self._stream = stream
            if self._fired:
                _shut(stream)

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            _shut(self._stream)


_UNWATCHED: contextlib.AbstractContextManager[None] = contextlib.nullcontext()


def _shut(stream: Any) -> None:
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # socket.socket's own shutdown, also for an SSLSocket, whose override would unwrap TLS
            # under the reading thread; the kernel then ends the blocked read.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
