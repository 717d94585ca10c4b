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

Outside an attempt (downloads) the wrappers only pass calls through. A caller's own
``http_client`` is used as given, without them.
"""

from __future__ import annotations

import math
import socket
import ssl
import time
import weakref
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

import httpcore
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
        self._token = _CURRENT.set(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)

    @property
    def unsent(self) -> bool:
        """The request surely never reached the server whole: fewer bytes were handed over than its body holds.

        Only a client the SDK watches counts the bytes; through any other, nothing is sure.
        """
        length = self._request.headers.get("content-length", "")
        return self._http in _WATCHED and length.isdigit() and self.handed < int(length)

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


_CURRENT: ContextVar[Attempt | None] = ContextVar("qubrid_video_attempt", default=None)
_WATCHED: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()


def watch(client: httpx.Client | httpx.AsyncClient) -> None:
    """Open the connections of a client the SDK created through the wrappers below.

    httpx offers no public hook for a network backend, so it is swapped into each pool httpx
    built (its own transport and any proxy mounts from the environment) before any connection
    exists. The client counts as watched only if every pool was reached: bytes not counted must
    never read as bytes not sent.
    """
    everywhere = True
    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
        elif transport is not None:
            everywhere = False
    if everywhere:
        _WATCHED.add(client)


def _connecting(timeout: float | None, *, bounded: bool) -> float | None:
    """Note that the current attempt opens a connection; its timeout, within the deadline when `bounded`."""
    attempt = _CURRENT.get()
    if attempt is None:
        return timeout
    attempt.connected = True
    return attempt.budget(timeout, httpcore.ConnectTimeout) if bounded else timeout


# The backends take httpcore's arguments as they come: only the timeout matters here, the rest
# (local address, socket options) passes through.
class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, *rest: Any, **options: Any
    ) -> httpcore.NetworkStream:
        timeout = _connecting(timeout, bounded=True)
        return _Stream(self._inner.connect_tcp(host, port, timeout, *rest, **options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, *rest: Any, **options: Any
    ) -> httpcore.NetworkStream:
        timeout = _connecting(timeout, bounded=True)
        return _Stream(self._inner.connect_unix_socket(path, timeout, *rest, **options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        sock = inner.get_extra_info("socket")
        # Sending straight to the socket does what the stream's own write does only when the
        # stream adds nothing on top of it: plain TCP, or TLS done by an ssl.SSLSocket (not
        # httpcore's TLS-in-TLS stream for an https proxy, which shows its raw socket).
        direct = isinstance(sock, ssl.SSLSocket) or (
            isinstance(sock, socket.socket) and inner.get_extra_info("ssl_object") is None
        )
        self._sock: socket.socket | None = sock if direct else None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        attempt = _CURRENT.get()
        if attempt is None:
            return self._inner.read(max_bytes, timeout)
        # One read is one recv (or one TLS record read, under one deadline): exact.
        data = self._inner.read(max_bytes, attempt.budget(timeout, httpcore.ReadTimeout))
        attempt.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = _CURRENT.get()
        if attempt is None:
            self._inner.write(buffer, timeout)
            return
        attempt.handed += len(buffer)
        try:
            if self._sock is None:
                self._inner.write(buffer, attempt.budget(timeout, httpcore.WriteTimeout))
            else:
                _send(self._sock, buffer, timeout, attempt)
        finally:
            attempt.last_write = time.monotonic()

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        attempt = _CURRENT.get()
        if attempt is not None:
            timeout = attempt.budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _send(sock: socket.socket, buffer: bytes, timeout: float | None, attempt: Attempt) -> None:
    """Send all of `buffer`, each send() given only the time left.

    httpcore's own write gives every send() of a buffer the same timeout, so a server taking one
    byte just before each expires could stretch a single write without end.
    """
    view = memoryview(buffer)
    try:
        while view:
            sock.settimeout(attempt.budget(timeout, httpcore.WriteTimeout))
            view = view[sock.send(view) :]
    except TimeoutError as exc:
        raise httpcore.WriteTimeout(str(exc)) from exc
    except OSError as exc:
        raise httpcore.WriteError(str(exc)) from exc


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, *rest: Any, **options: Any
    ) -> httpcore.AsyncNetworkStream:
        # asyncio.timeout bounds the whole attempt, connecting included.
        timeout = _connecting(timeout, bounded=False)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, *rest, **options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, *rest: Any, **options: Any
    ) -> httpcore.AsyncNetworkStream:
        timeout = _connecting(timeout, bounded=False)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, *rest, **options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        attempt = _CURRENT.get()
        if attempt is not None:
            attempt.received += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = _CURRENT.get()
        if attempt is None:
            await self._inner.write(buffer, timeout)
            return
        # Counted before: once handed over, asyncio's transport sends the bytes even if the
        # deadline cancels this write.
        attempt.handed += len(buffer)
        try:
            await self._inner.write(buffer, timeout)
        finally:
            attempt.last_write = time.monotonic()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
