"""A loopback HTTP server that misbehaves on purpose, at the socket level, one way per mode."""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

BOMB = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # ~250 KB on the wire, 256 MiB inflated


def raw_answer(status: str, body: bytes, *headers: str) -> bytes:
    """The bytes of one HTTP/1.1 answer: a status line such as ``502 Bad Gateway``, headers, the body."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Recorder:
    """What the server saw: each request's head, as text."""

    def __init__(self) -> None:
        self.requests: list[str] = []


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


@contextmanager
def hostile(
    mode: str, other: str = "http://127.0.0.1:9", answer: bytes | Sequence[bytes] = b""
) -> Iterator[tuple[str, Recorder]]:
    """Serve `mode` on a free loopback port in a thread; yield its base URL and what it recorded.

    Mode ``canned`` writes `answer`, byte for byte, to every request, then closes the connection;
    given a sequence of answers, the n-th request gets the n-th (and the last repeats).
    """
    answers = [answer] if isinstance(answer, bytes) else list(answer)
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            recorder.requests.append(await _read_request(reader))
            await _behave(mode, writer, other, answers[min(len(recorder.requests), len(answers)) - 1])
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
