"""The emulator's connections: each request's transport, a deadline for requests, a quiet accept loop.

Clients that open connections and never send a request would otherwise hold a file descriptor
each for ever; past the process's limit the emulator can accept nobody, and asyncio's accept loop
logs every failed ``accept()`` (thousands of lines a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import h11
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

# The scope extension through which a request reaches its connection's transport.
TRANSPORT_KEY = "qubrid.transport"

# What asyncio's accept loop reports when accept() fails for want of descriptors or memory. It
# then tries up to `backlog` more accepts in the same tick, reporting each failure (CPython 3.11).
ACCEPT_FAILED = "socket.accept() out of system resource"


class TransportProtocol(H11Protocol):
    """uvicorn's h11 protocol, handing each request its connection's transport, with a header deadline.

    Faults such as a connection dropped before or in the middle of an answer need to close the
    socket itself, which ASGI does not expose; a custom protocol class is uvicorn's documented hook.
    A client must complete each request's headers within ``idle_timeout`` seconds of connecting,
    or of the first byte of a later request; uvicorn's keep-alive timeout covers only the silence
    after a response, never a connection that sends nothing, or half a request.

    Attributes:
        idle_timeout: Seconds allowed to send a request's headers, or None for no limit.
    """

    idle_timeout: float | None = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Wrap the app so every request on this connection finds the transport; start the deadline."""
        super().connection_made(transport)
        app = self.app

        async def with_transport(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[TRANSPORT_KEY] = transport
            await app(scope, receive, send)

        self.app = with_transport
        self._watch()

    def data_received(self, data: bytes) -> None:
        """Feed the bytes to h11, then start or stop the deadline as a request is begun or complete."""
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._stop_deadline()
        super().connection_lost(exc)

    def _watch(self) -> None:
        # h11 leaves the client IDLE until a request's headers are complete.
        if self.conn.their_state is not h11.IDLE:
            self._stop_deadline()
        elif self._deadline is None and self.idle_timeout is not None and not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.idle_timeout, self._expire)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def protocol_class(idle_timeout: float | None) -> type[TransportProtocol]:
    """The protocol class for one emulator: uvicorn makes the instances, so settings ride on the class."""

    class Protocol(TransportProtocol):
        pass

    Protocol.idle_timeout = idle_timeout
    return Protocol


class AcceptErrorThrottle:
    """An event loop exception handler letting the accept loop's errors through once per `interval` seconds.

    Everything else goes to the loop's default handler, as before.
    """

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._quiet_until = float("-inf")
        self._suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Log `context` unless it is an accept loop error and one was logged less than `interval` ago."""
        message = str(context.get("message", ""))
        if message == ACCEPT_FAILED:
            now = time.monotonic()
            if now < self._quiet_until:
                self._suppressed += 1
                return
            self._quiet_until = now + self.interval
            if self._suppressed:
                note = f" ({self._suppressed} more accept errors in the last {self.interval:g} s were not logged)"
                context = {**context, "message": message + note}
                self._suppressed = 0
        loop.default_exception_handler(context)


class Server(uvicorn.Server):
    """uvicorn's server, with the accept loop's errors throttled on the loop it serves from.

    Also: a SIGINT that was ignored when serving began (a background job of a shell, nohup...)
    stays ignored, where uvicorn would take it over; and the signal that stopped it is kept.

    Attributes:
        sigint_ignored: Leave SIGINT alone (set before serving in the foreground).
        stopped_by: The first signal that asked it to stop, if any.
    """

    sigint_ignored = False
    stopped_by: signal.Signals | None = None
    # Called once listening, with uvicorn's signal handlers in place: a Ctrl-C sent as soon as the
    # readiness line is read then stops the server, instead of landing in whatever Python was doing
    # (an import's lock callback swallows a KeyboardInterrupt, and the process would hang).
    on_ready: Callable[[], None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    def request_exit(self) -> None:
        """Ask the server to stop, from any thread, and wake its loop so that it starts at once."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed: it has stopped
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        """The 0.1 s tick loop of uvicorn, but woken by :meth:`request_exit`.

        uvicorn sleeps out the tick before it sees ``should_exit``: up to 0.1 s of every stop, which
        each emulator fixture of a test session would pay.
        """
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            self._wake.clear()
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Uvicorn's signal handler, minus an inherited ignored SIGINT."""
        if sig == signal.SIGINT and self.sigint_ignored:
            return
        if self.stopped_by is None:
            self.stopped_by = signal.Signals(sig)
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Install the throttle, then start as uvicorn does."""
        asyncio.get_running_loop().set_exception_handler(AcceptErrorThrottle())
        await super().startup(sockets)
        if self.started and self.on_ready is not None:
            self.on_ready()
