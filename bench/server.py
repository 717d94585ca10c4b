"""A lean HTTP/1.1 server for benchmarks: canned answers, drained uploads, a big file by sendfile.

Raw asyncio keeps the server's own cost small and steady, so client-side ratios stay meaningful.

    python bench/server.py --hold 2 --file /tmp/big.bin   # prints its port, serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys

ANSWER = b""


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return
    for line in headers.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            remaining = int(line.split(b":")[1])
            while remaining:
                remaining -= len(await reader.read(min(remaining, 1 << 20)))


async def serve(hold: float, big: str | None) -> None:
    """Answer POSTs with the canned body after `hold` seconds; GET /files/* sends `big`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await _read_body(reader, head)
                if head.startswith(b"GET") and big:
                    size = os.path.getsize(big)
                    writer.write(
                        b'HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nETag: "big"\r\nContent-Length: %d\r\n\r\n'
                        % size
                    )
                    with open(big, "rb") as handle_:
                        await asyncio.get_running_loop().sendfile(writer.transport, handle_)
                    continue
                if hold:
                    await asyncio.sleep(hold)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req-bench\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER))  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8192)
    server = await asyncio.start_server(handle, sock=sock, backlog=8192, limit=1 << 20)
    print(sock.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Parse options and serve."""
    global ANSWER
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--file", default=None)
    parser.add_argument("--video-url", default="http://127.0.0.1:9/files/video.mp4")
    args = parser.parse_args()
    ANSWER = json.dumps({"created": 1710000000, "data": [{"url": args.video_url}]}).encode()
    try:
        asyncio.run(serve(args.hold, args.file))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
