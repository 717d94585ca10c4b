"""An answer's body, read and decoded in memory bounded by MAX_BODY_BYTES, whatever the server sends.

httpx undoes ``Content-Encoding`` itself, but without a bound per layer: ``gzip, gzip`` around
1 GiB of zeros is 1,827 bytes on the wire and a 2 GB spike in memory before the first capped
chunk comes out. So the SDK reads the raw bytes (capped), then undoes each layer itself, none
producing more than the cap. It asks only for the codings it can undo that way (``gzip``,
``deflate``); like httpx, it leaves a coding it does not know as it is.
"""

from __future__ import annotations

import zlib

import httpx

from ._config import Deadline
from ._response import MAX_BODY_BYTES

ACCEPT_ENCODING = "gzip, deflate"
# As urllib3: no real server stacks more; each layer costs a pass over up to MAX_BODY_BYTES.
MAX_LAYERS = 5
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
_PIECE = 64 * 1024


def read_body(response: httpx.Response, deadline: Deadline) -> bytes:
    """The decoded body of a streamed answer.

    Raises:
        TimeoutError: the deadline passed between two reads (through a caller's ``http_client``;
            the SDK's own pools stop every read at the deadline).
    """
    chunks, size = [], 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
        if deadline.remaining() <= 0:
            raise TimeoutError("deadline passed while reading the answer")
    return decode(b"".join(chunks)[:MAX_BODY_BYTES], response.headers.get("content-encoding", ""))


async def aread_body(response: httpx.Response) -> bytes:
    """The decoded body of a streamed answer, read asynchronously (the caller bounds the time)."""
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return decode(b"".join(chunks)[:MAX_BODY_BYTES], response.headers.get("content-encoding", ""))


def keep_body(response: httpx.Response, body: bytes) -> None:
    """Give a streamed, closed response the body the SDK read, so ``.json()``, ``.text`` work on it.

    `body` is already decoded and capped. httpx offers no public way to attach it: re-reading a
    closed stream fails, and a new ``Response`` built from these headers would decode the body a
    second time (and lose ``elapsed``, ``http_version``...). So the body is stored where
    ``Response.read()`` itself stores it. Its stream, spent, is replaced by one of the body: the
    spent one leads to httpcore's copy of the request, which carries the API key in clear.
    """
    response._content = body
    response.stream = httpx.ByteStream(body)


def decode(raw: bytes, content_encoding: str) -> bytes:
    """`raw` with its content codings undone, at most MAX_BODY_BYTES of it.

    Each layer yields what it could decode before any corrupt or missing byte, so a cut or
    damaged body decodes to a prefix (the caller then finds it is not the JSON it expected).
    More than MAX_LAYERS codings is refused: the body is then empty.
    """
    codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
    if len(codings) > MAX_LAYERS:
        return b""
    body = raw
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding in _WBITS:
            body = _inflate(body, coding)
    return body[:MAX_BODY_BYTES]


def _inflate(data: bytes, coding: str) -> bytes:
    out = _inflate_with(data, _WBITS[coding])
    if out is None and coding == "deflate":
        # "deflate" comes both zlib-wrapped (as RFC 9110 says) and raw; httpx accepts both too.
        out = _inflate_with(data, -zlib.MAX_WBITS)
    return out or b""


def _inflate_with(data: bytes, wbits: int) -> bytes | None:
    """Up to MAX_BODY_BYTES of `data` inflated; what came before a corrupt byte; None if it was the first."""
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    view = memoryview(data)
    for start in range(0, len(view), _PIECE):
        try:
            # Output stops at the cap; below it, the whole piece has been consumed.
            out += inflater.decompress(view[start : start + _PIECE], MAX_BODY_BYTES - len(out))
        except zlib.error:
            return bytes(out) if out else None
        if len(out) >= MAX_BODY_BYTES or inflater.eof:
            break
    return bytes(out)
