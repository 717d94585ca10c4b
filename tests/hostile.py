"""A loopback HTTP server that misbehaves on purpose, at the socket level, one way per mode."""

from __future__ import annotations

import asyncio
import functools
import gzip
import pickle
import socket
import struct
import threading
import time
import traceback
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import qubrid_video as qv

TEST_KEY = "sk-hostile-test-key"

BOMB = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # ~250 KB on the wire, 256 MiB inflated
VIDEO_BODY = b'{"created": 1710000000, "data": [{"url": "https://cdn.example/v.mp4"}]}'


def raw_answer(status: str, body: bytes, *headers: str, keep_alive: bool = False) -> bytes:
    """The bytes of one HTTP/1.1 answer: a status line such as ``502 Bad Gateway``, headers, the body."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]
    if not keep_alive:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def video_answer(*, keep_alive: bool = False) -> bytes:
    """A 200 with a usable video URL."""
    return raw_answer("200 OK", VIDEO_BODY, "Content-Type: application/json", "x-request-id: req-ok",
                      keep_alive=keep_alive)  # fmt: skip


@functools.cache
def stacked_bomb(inflated: int = 256 * 1024 * 1024) -> bytes:
    """`inflated` zero bytes gzipped twice: a couple of kB for ``Content-Encoding: gzip, gzip``."""
    inner = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024 * 1024)
    layer = b"".join(inner.compress(zeros) for _ in range(inflated // len(zeros))) + inner.flush()
    return gzip.compress(layer, compresslevel=9)


class Recorder:
    """What the server saw: each request's head, as text; how many connections it accepted; how
    many requests arrived on a connection it then closed without reading them (``unread``).

    ``answer`` is what mode ``canned`` writes; a test may change it between calls.
    """

    def __init__(self, answer: bytes = b"") -> None:
        self.requests: list[str] = []
        self.connections = 0
        self.unread = 0
        self.answer = answer


async def _read_request(reader: asyncio.StreamReader) -> str:
    head = await reader.readuntil(b"\r\n\r\n")
    text = head.decode("latin-1")
    length = next(
        (int(line.split(":", 1)[1]) for line in text.split("\r\n") if line.lower().startswith("content-length:")), 0
    )
    if length:
        await reader.readexactly(length)
    return text


async def _behave(mode: str, writer: asyncio.StreamWriter, other: str, answer: bytes) -> None:
    write = writer.write
    if mode == "canned":
        write(answer)
    elif mode == "slowloris":
        write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        while True:
            write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)
    elif mode == "endless_headers":
        write(b"HTTP/1.1 200 OK\r\n")
        for index in range(10**7):
            write(f"X-Pad-{index}: {'a' * 100}\r\n".encode())
            await writer.drain()
    elif mode == "phantom_length":
        write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{"created"')
        await writer.drain()
        await asyncio.sleep(3600)
    elif mode == "silent":
        await asyncio.sleep(3600)
    elif mode.startswith("retry_after:"):
        body = b'{"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded", "request_id": "r"}}'
        value = mode.split(":", 1)[1].encode()
        write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: " + value
              + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip
    elif mode == "redirect":
        write(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {other}/steal\r\nContent-Length: 0\r\n\r\n".encode())
    elif mode == "gzip_bomb":
        write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: "
              + str(len(BOMB)).encode() + b"\r\n\r\n" + BOMB)  # fmt: skip
    await writer.drain()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, how: str) -> None:
    """End a connection without an answer: ``rst``, a reset; or ``fin``, an orderly close of the
    server's side (then whatever the client still sends is drained until it closes too)."""
    if how == "rst":
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return
    writer.write_eof()
    while await reader.read(64 * 1024):
        pass


async def _converse(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, recorder: Recorder) -> None:
    """Modes that play out over a whole connection rather than one answer."""
    kind, _, how = mode.partition(":")
    if kind == "slow_reader":  # takes the request's body at 128 KiB/s, never answers
        recorder.requests.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
        while await reader.read(16 * 1024):
            await asyncio.sleep(0.125)
        return
    recorder.requests.append(await _read_request(reader))
    if kind == "trickle_headers":  # a header that never ends, one byte every 0.5 s
        writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while True:
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.5)
    if kind in ("stale", "stale_late") and recorder.connections > 1:  # later connections: a video
        writer.write(video_answer())
        await writer.drain()
        return
    if kind in ("stale", "stale_late"):
        # Answer and keep the connection open, as a keep-alive server does; then close it as if
        # its idle timeout fired just as the client's next request went out on it.
        writer.write(video_answer(keep_alive=True))
        await writer.drain()
        if kind == "stale":
            if await reader.read(1):  # the next request is arriving: the server never reads it
                recorder.unread += 1
        else:  # the server reads it, works for longer than a round trip, then dies
            recorder.requests.append(await _read_request(reader))
            await asyncio.sleep(2)
    await _hang_up(reader, writer, how)


_CONVERSATIONS = ("slow_reader", "trickle_headers", "drop:", "stale:", "stale_late:")


@contextmanager
def hostile(mode: str, other: str = "http://127.0.0.1:9", answer: bytes = b"") -> Iterator[tuple[str, Recorder]]:
    """Serve `mode` on a free loopback port in a thread; yield its base URL and what it recorded.

    Mode ``canned`` writes `answer` (``recorder.answer``), byte for byte, to every request, then
    closes the connection. Whole-connection modes:

    - ``slow_reader``: reads the request's body at 128 KiB/s and never answers.
    - ``trickle_headers``: answers ``200 OK`` then one header byte every 0.5 s, without end.
    - ``drop:fin`` / ``drop:rst``: reads each request, then closes (or resets) without answering.
    - ``stale:fin`` / ``stale:rst``: answers the first request keeping the connection open, then
      closes (resets) it when the next request arrives, unread; later connections get a video.
    - ``stale_late:rst``: as ``stale``, but reads that next request and resets 2 s later.
    """
    recorder = Recorder(answer)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        try:
            if mode.startswith(_CONVERSATIONS):
                await _converse(mode, reader, writer, recorder)
                return
            recorder.requests.append(await _read_request(reader))
            await _behave(mode, writer, other, recorder.answer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def start() -> None:
        box["server"] = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    ready.wait(10)
    port = box["server"].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", recorder
    finally:

        async def stop() -> None:
            box["server"].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def calls(flavour: str, base_url: str, count: int = 1, *, timeout: float = 30, image: Any = None,
          **options: Any) -> list[tuple[qv.Video | qv.AsyncVideo | qv.QubridError, float]]:  # fmt: skip
    """`count` generate() calls in turn on one client: each one's video or documented error, and its duration.

    The async client spreads calls over POOL_LANES pools in turn, so a pooled connection is met
    again POOL_LANES calls later.
    """
    outcomes: list[tuple[Any, float]] = []
    if flavour == "sync":
        with qv.Qubrid(api_key=TEST_KEY, base_url=base_url, **options) as client:
            for _ in range(count):
                started = time.monotonic()
                try:
                    result: Any = client.videos.generate(model="p-video", image=image, timeout=timeout)
                except qv.QubridError as error:
                    result = error
                outcomes.append((result, time.monotonic() - started))
        return outcomes

    async def run() -> None:
        async with qv.AsyncQubrid(api_key=TEST_KEY, base_url=base_url, **options) as client:
            for _ in range(count):
                started = time.monotonic()
                try:
                    result: Any = await client.videos.generate(model="p-video", image=image, timeout=timeout)
                except qv.QubridError as error:
                    result = error
                outcomes.append((result, time.monotonic() - started))

    asyncio.run(run())
    return outcomes


def assert_keyless(error: BaseException, key: str = TEST_KEY) -> None:
    """`key` is nowhere in `error`: not its traceback, its chain, any request in the chain, or its pickle."""
    texts = ["".join(traceback.format_exception(error)), repr(pickle.dumps(error))]
    node: BaseException | None = error
    seen: set[int] = set()
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        texts.append(repr(node))
        holder = getattr(node, "response", None) or node
        try:
            request = holder.request
        except (AttributeError, RuntimeError):  # httpx raises RuntimeError for an error made without one
            request = None
        if request is not None:
            texts.append(str(list(request.headers.raw)))
        node = node.__cause__ or node.__context__
    assert [text for text in texts if key in text] == []
