"""The network backends of the SDK's own pools: each socket operation of an :class:`._wire.Attempt` within its deadline.

What :mod:`._wire` describes, made of httpcore's classes. Kept apart so that importing the SDK
does not import httpcore (nor h11 and anyio): httpx itself imports it only when a client is made,
and this module is imported by the functions that make the SDK's clients, at that moment.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

import httpcore
import httpx

from ._wire import CURRENT, WATCHED, Attempt


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
        WATCHED.add(client)


def _connecting(timeout: float | None, *, bounded: bool) -> float | None:
    """Note that the current attempt opens a connection; its timeout, within the deadline when `bounded`."""
    attempt = CURRENT.get()
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
        attempt = CURRENT.get()
        if attempt is None:
            return self._inner.read(max_bytes, timeout)
        # One read is one recv (or one TLS record read, under one deadline): exact.
        data = self._inner.read(max_bytes, attempt.budget(timeout, httpcore.ReadTimeout))
        attempt.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = CURRENT.get()
        if attempt is None:
            self._inner.write(buffer, timeout)
            return
        if not buffer:  # h11's end of a sized body: nothing goes out (httpcore's own write skips it too)
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
        attempt = CURRENT.get()
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
        attempt = CURRENT.get()
        if attempt is not None:
            attempt.received += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = CURRENT.get()
        if attempt is None:
            await self._inner.write(buffer, timeout)
            return
        if not buffer:  # as in the sync stream
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
