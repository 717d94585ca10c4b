"""A loopback HTTP server that misbehaves on purpose, at the socket level, one way per mode.

Modes for the generation call are written by :func:`_behave`; modes for video downloads (a
parameter after a colon: ``trickle:1.9``) are the ``_serve_*`` functions in ``DOWNLOAD_MODES``.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

BOMB = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # ~250 KB on the wire, 256 MiB inflated
VIDEO = bytes(range(256)) * 64  # what the download modes serve: 16 KiB, every offset distinguishable
# The file as changed on the server: other bytes, with the same length or 100 bytes more.
CHANGED = {"etag": (bytes(reversed(VIDEO)), '"b"'), "total": (VIDEO[::-1] + b"!" * 100, '"a"')}
_RANGE = re.compile(r"^range: bytes=(\d+)-\r?$", re.IGNORECASE | re.MULTILINE)


def raw_answer(status: str, body: bytes, *headers: str) -> bytes:
    """The bytes of one HTTP/1.1 answer: a status line such as ``502 Bad Gateway``, headers, the body."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Recorder:
    """What the server saw: each request's head, as text."""

    def __init__(self) -> None:
        self.requests: list[str] = []

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
    "stall": _serve_stall,
    "endless": _serve_endless,
    "huge": _serve_huge,
    "chunked_cut": _serve_chunked_cut,
    "unframed": _serve_unframed,
    "gzip": _serve_gzip,
    "changed": _serve_changed,
    "redirect_loop": _serve_redirect_loop,
    "location": _serve_location,
    "heavy_redirect": _serve_heavy_redirect,
}


@contextmanager
def hostile(mode: str, other: str = "http://127.0.0.1:9", answer: bytes = b"") -> Iterator[tuple[str, Recorder]]:
    """Serve `mode` on a free loopback port in a thread; yield its base URL and what it recorded.

    Mode ``canned`` writes `answer`, byte for byte, to every request, then closes the connection.
    Download modes (``DOWNLOAD_MODES``) take their parameter after a colon; `other` is an origin.
    """
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            recorder.requests.append(await _read_request(reader))
            name, _, param = mode.partition(":")
            if name in DOWNLOAD_MODES:
                ask = Ask(recorder.requests[-1], len(recorder.requests) - 1, param, other)
                await DOWNLOAD_MODES[name](writer, ask)
            else:
                await _behave(mode, writer, other, answer)
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
