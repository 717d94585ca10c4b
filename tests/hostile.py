"""A loopback HTTP server that misbehaves on purpose, at the socket level, one way per mode.

Modes for the generation call are written by :func:`_behave`; modes for video downloads (a
parameter after a colon: ``trickle:1.9``) are the ``_serve_*`` functions in ``DOWNLOAD_MODES``.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import pickle
import re
import socket
import struct
import threading
import time
import traceback
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import qubrid_video as qv

TEST_KEY = "sk-hostile-test-key"

BOMB = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # ~250 KB on the wire, 256 MiB inflated
VIDEO_BODY = b'{"created": 1710000000, "data": [{"url": "https://cdn.example/v.mp4"}]}'
VIDEO = bytes(range(256)) * 64  # what the download modes serve: 16 KiB, every offset distinguishable
# The file as changed on the server: other bytes, with the same length or 100 bytes more.
CHANGED = {"etag": (bytes(reversed(VIDEO)), '"b"'), "total": (VIDEO[::-1] + b"!" * 100, '"a"')}
TRICKLE = 0.3  # seconds between the bytes of a trickled head
_RANGE = re.compile(r"^range: bytes=(\d+)-\r?$", re.IGNORECASE | re.MULTILINE)


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
    """What the server saw: each request's head, as text; how many connections it accepted, and
    how many of them ended (``ended``: the mode finished, or the client closed its side); how
    many requests arrived on a connection it then closed without reading them (``unread``).

    ``answer`` is what mode ``canned`` writes; a test may change it between calls.
    """

    def __init__(self, answer: bytes | Sequence[bytes] = b"") -> None:
        self.requests: list[str] = []
        self.connections = 0
        self.ended = 0
        self.unread = 0
        self.answer = answer

    def header(self, index: int, name: str) -> str | None:
        """The value of header `name` in request `index`, or None when it was not sent."""
        prefix = name.lower() + ":"
        lines = self.requests[index].split("\r\n")
        return next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(prefix)), None)


@dataclass
class Ask:
    """One request to a download mode: its head, its number (from 0), the mode's parameter, the other origin."""

    head: str
    index: int
    param: str
    other: str

    @property
    def offset(self) -> int | None:
        """Where a ``Range: bytes=N-`` request starts, or None without one."""
        match = _RANGE.search(self.head)
        return int(match.group(1)) if match else None


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
    if kind == "cut_upload":  # takes the head and 256 KiB of the body, then resets the connection
        recorder.requests.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
        taken = 0
        while taken < 256 * 1024 and (data := await reader.read(64 * 1024)):
            taken += len(data)
        await _hang_up(reader, writer, "rst")
        return
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
    if kind == "reused_trickle":  # VIDEO, the connection kept alive; its next request gets a trickled head
        await _send(writer, f'HTTP/1.1 200 OK\r\nContent-Length: {len(VIDEO)}\r\nETag: "r"\r\n\r\n'.encode() + VIDEO)
        recorder.requests.append(await _read_request(reader))
        await _trickle_head(writer, TRICKLE)
        return
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


_CONVERSATIONS = ("cut_upload", "slow_reader", "trickle_headers", "reused_trickle", "drop:", "stale:", "stale_late:")


def _head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers, "Connection: close"]) + "\r\n\r\n").encode()


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def _whole_or_rest(ask: Ask, body: bytes, etag: str) -> tuple[bytes, bytes]:
    """The head and body of a correct answer: 200 with the file, or 206 with its rest for ``Range: bytes=N-``."""
    start = ask.offset
    if start is None:
        return _head("200 OK", f"Content-Length: {len(body)}", f"ETag: {etag}", "Accept-Ranges: bytes"), body
    rest = body[start:]
    headers = [f"Content-Length: {len(rest)}", f"Content-Range: bytes {start}-{len(body) - 1}/{len(body)}"]
    return _head("206 Partial Content", *headers, f"ETag: {etag}"), rest


async def _serve_video(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A correct file server: VIDEO, with ETag, Content-Length and single open-ended ranges."""
    head, body = _whole_or_rest(ask, VIDEO, '"v"')
    await _send(writer, head + body)


async def _serve_trickle(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """Eight bytes of VIDEO, one every `param` seconds: each read succeeds, the whole takes long."""
    body = VIDEO[:8]
    await _send(writer, _head("200 OK", f"Content-Length: {len(body)}", 'ETag: "t"'))
    for index in range(len(body)):
        await asyncio.sleep(float(ask.param))
        await _send(writer, body[index : index + 1])


async def _trickle_head(writer: asyncio.StreamWriter, seconds: float) -> None:
    """``200 OK`` and a header that never ends: a byte every `seconds`, 40 of them, then the connection ends."""
    await _send(writer, b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(40):
        await asyncio.sleep(seconds)
        await _send(writer, b"a")


async def _serve_trickle_head(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """The answer's head trickled, one byte every `param` seconds (see :func:`_trickle_head`)."""
    await _trickle_head(writer, float(ask.param))


async def _serve_overlong(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """VIDEO, then more of it without end, past the length the answer itself announced.

    `param` ``length``: a 200 announcing ``Content-Length: 100`` beside chunked framing (which
    wins). ``resume``: a 200 announcing VIDEO's length, cut after 8000 bytes; the resume gets a
    206 whose Content-Range ends at VIDEO's end but whose chunked body runs on.
    """
    if ask.param == "length":
        head, body = _head("200 OK", "Content-Length: 100", "Transfer-Encoding: chunked", 'ETag: "o"'), VIDEO
    elif ask.offset is None:
        await _send(writer, _head("200 OK", f"Content-Length: {len(VIDEO)}", 'ETag: "o"') + VIDEO[:8000])
        return
    else:
        described = f"Content-Range: bytes {ask.offset}-{len(VIDEO) - 1}/{len(VIDEO)}"
        body = VIDEO[ask.offset :]
        head = _head("206 Partial Content", "Transfer-Encoding: chunked", described, 'ETag: "o"')
    await _send(writer, head + b"%x\r\n%b\r\n" % (len(body), body))
    chunk = b"%x\r\n%b\r\n" % (len(VIDEO), VIDEO)
    while True:
        await _send(writer, chunk * 16)


async def _serve_large(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """`param` MiB of VIDEO repeated, with its Content-Length."""
    size = int(ask.param) * 2**20
    await _send(writer, _head("200 OK", f"Content-Length: {size}", 'ETag: "l"'))
    block = VIDEO * 64  # 1 MiB
    for _ in range(int(ask.param)):
        await _send(writer, block)


async def _serve_stall(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A tenth of the announced body, then silence with the connection open."""
    await _send(writer, _head("200 OK", "Content-Length: 1000", 'ETag: "s"') + VIDEO[:100])
    await asyncio.sleep(3600)


async def _serve_endless(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A chunked body that never ends, as fast as the client reads."""
    await _send(writer, _head("200 OK", "Transfer-Encoding: chunked"))
    chunk = b"%x\r\n%b\r\n" % (len(VIDEO), VIDEO)
    while True:
        await _send(writer, chunk * 16)


async def _serve_huge(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A 10 GiB Content-Length, and bytes for as long as the client reads."""
    await _send(writer, _head("200 OK", f"Content-Length: {10 * 2**30}", 'ETag: "h"'))
    while True:
        await _send(writer, VIDEO * 16)


async def _serve_chunked_cut(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """Chunked VIDEO, closed cleanly before the terminating zero-size chunk."""
    await _send(writer, _head("200 OK", "Transfer-Encoding: chunked") + b"%x\r\n%b\r\n" % (len(VIDEO), VIDEO))


async def _serve_chunked(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """VIDEO whole but of unknown length: chunked, in 16 pieces `param` seconds apart, properly ended."""
    await _send(writer, _head("200 OK", "Transfer-Encoding: chunked", 'ETag: "c"'))
    piece = len(VIDEO) // 16
    for start in range(0, len(VIDEO), piece):
        await _send(writer, b"%x\r\n%b\r\n" % (piece, VIDEO[start : start + piece]))
        await asyncio.sleep(float(ask.param))
    await _send(writer, b"0\r\n\r\n")


async def _serve_unframed(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """Half of VIDEO with neither Content-Length nor chunked encoding: the close alone ends the body."""
    await _send(writer, _head("200 OK", 'ETag: "u"') + VIDEO[: len(VIDEO) // 2])


async def _serve_gzip(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """VIDEO gzip-compressed although the client asked for identity encoding."""
    body = gzip.compress(VIDEO)
    await _send(writer, _head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(body)}") + body)


async def _serve_changed(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """The file changes after the first answer, which is cut halfway; resumes get 206 of the new file anyway.

    `param` says what betrays the change in the 206: ``etag`` (same length, new ETag) or ``total``
    (same ETag; Content-Range names a longer file, of which it sends exactly the bytes the first
    answer still owed, so the byte count adds up). Requests without Range get the new file whole.
    """
    if ask.index == 0:
        await _send(writer, _head("200 OK", f"Content-Length: {len(VIDEO)}", 'ETag: "a"') + VIDEO[: len(VIDEO) // 2])
        return
    body, etag = CHANGED[ask.param]
    start = ask.offset
    if start is None:
        await _send(writer, _head("200 OK", f"Content-Length: {len(body)}", f"ETag: {etag}") + body)
        return
    rest = body[start : len(VIDEO)]
    headers = [f"Content-Length: {len(rest)}", f"Content-Range: bytes {start}-{len(VIDEO) - 1}/{len(body)}"]
    await _send(writer, _head("206 Partial Content", *headers, f"ETag: {etag}") + rest)


async def _serve_redirect_loop(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A redirect to the very URL asked, forever."""
    path = ask.head.split(" ", 2)[1]
    await _send(writer, _head("302 Found", f"Location: {path}", "Content-Length: 0"))


async def _serve_location(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A redirect to `param`, written as given (an invalid URL, another scheme...)."""
    await _send(writer, _head("302 Found", f"Location: {ask.param}", "Content-Length: 0"))


async def _serve_heavy_redirect(writer: asyncio.StreamWriter, ask: Ask) -> None:
    """A redirect to the other origin whose own body is `param` MiB of padding."""
    size = int(ask.param) * 2**20
    await _send(writer, _head("302 Found", f"Location: {ask.other}/video.mp4", f"Content-Length: {size}"))
    for _ in range(int(ask.param)):
        await _send(writer, b"\0" * 2**20)


DOWNLOAD_MODES: dict[str, Callable[[asyncio.StreamWriter, Ask], Awaitable[None]]] = {
    "video": _serve_video,
    "trickle": _serve_trickle,
    "trickle_head": _serve_trickle_head,
    "overlong": _serve_overlong,
    "stall": _serve_stall,
    "endless": _serve_endless,
    "huge": _serve_huge,
    "large": _serve_large,
    "chunked": _serve_chunked,
    "chunked_cut": _serve_chunked_cut,
    "unframed": _serve_unframed,
    "gzip": _serve_gzip,
    "changed": _serve_changed,
    "redirect_loop": _serve_redirect_loop,
    "location": _serve_location,
    "heavy_redirect": _serve_heavy_redirect,
}


@contextmanager
def hostile(
    mode: str, other: str = "http://127.0.0.1:9", answer: bytes | Sequence[bytes] = b""
) -> Iterator[tuple[str, Recorder]]:
    """Serve `mode` on a free loopback port in a thread; yield its base URL and what it recorded.

    Mode ``canned`` writes `answer` (``recorder.answer``), byte for byte, to every request, then
    closes the connection; given a sequence of answers, the n-th request gets the n-th (the last
    repeats). Whole-connection modes:

    - ``slow_reader``: reads the request's body at 128 KiB/s and never answers.
    - ``cut_upload``: reads the head and 256 KiB of the body, then resets the connection.
    - ``trickle_headers``: answers ``200 OK`` then one header byte every 0.5 s, without end.
    - ``drop:fin`` / ``drop:rst``: reads each request, then closes (or resets) without answering.
    - ``stale:fin`` / ``stale:rst``: answers the first request keeping the connection open, then
      closes (resets) it when the next request arrives, unread; later connections get a video.
    - ``stale_late:rst``: as ``stale``, but reads that next request and resets 2 s later.
    - ``reused_trickle``: VIDEO, keeping the connection open; the answer to the next request on
      that connection has its head trickled (one byte every ``TRICKLE`` seconds).

    Download modes (``DOWNLOAD_MODES``) take their parameter after a colon; `other` is an origin.
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
            name, _, param = mode.partition(":")
            if name in DOWNLOAD_MODES:
                ask = Ask(recorder.requests[-1], len(recorder.requests) - 1, param, other)
                await DOWNLOAD_MODES[name](writer, ask)
            else:
                answers = [recorder.answer] if isinstance(recorder.answer, bytes) else list(recorder.answer)
                await _behave(mode, writer, other, answers[min(len(recorder.requests), len(answers)) - 1])
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            recorder.ended += 1

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
