"""Misbehaviour on purpose: faults turned into answers, and drift from the contract.

Which request gets which fault is the fault plan's business (``_faults.py``); this room decides
what the client then sees: no answer at all, a body cut mid-way, a proxy's HTML page, a 429 or
5xx before any work, truncated JSON after it, a video cut short or trickled. Drift
(``EmulatorConfig.drift``) rewrites answers that are otherwise right, for drift checks to catch.
The bytes are written by hand here, because the point is to send what a well-behaved framework
never would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ._connections import TRANSPORT_KEY
from ._errors import RequestError
from ._faults import Fault, FaultKind

CHUNK = 256 * 1024
PROXY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


class _Dropped(Exception):
    """Raised to make the server close a connection when it gave no transport to close directly."""


async def _drop(scope: Scope, receive: Receive, *, abort: bool) -> None:
    """Close the connection now: `abort` discards anything unsent, otherwise what was sent is flushed."""
    transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
    if transport is None:
        raise _Dropped
    transport.abort() if abort else transport.close()
    # Wait until the server notices, so it does not log an unfinished response as an app error.
    while (await receive())["type"] != "http.disconnect":
        pass


class DropBefore(Response):
    """No answer at all: the connection closes after the request was read (so no status is sent)."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _drop(scope, receive, abort=True)


class _Cut(Response):
    """Send the status, headers and the first bytes of a body, then close the connection."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str], keep: int) -> None:
        super().__init__(body, status_code=status, headers=headers, media_type="application/json")
        self.keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: self.keep], "more_body": True})
        await _drop(scope, receive, abort=False)


class _FileSlice(Response):
    """Stream `length` bytes of a file from `start`; with `cut`, close the connection after that many."""

    def __init__(
        self,
        path: Path,
        *,
        start: int,
        length: int,
        status: int,
        headers: dict[str, str],
        cut: int | None = None,
        spread: float = 0.0,
    ) -> None:
        super().__init__(status_code=status, headers=headers, media_type="video/mp4")
        self.path, self.start, self.length, self.cut, self.spread = path, start, length, cut, spread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        limit = self.length if self.cut is None else min(self.cut, self.length)
        # A slow download trickles small chunks spread over `spread` seconds.
        size = CHUNK if not self.spread else max(256, limit // 50)
        pause = self.spread * size / max(limit, 1)
        sent = 0
        transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            while sent < limit:
                if transport is not None and transport.is_closing():
                    return  # the client went away; uvicorn would discard the rest silently
                chunk = handle.read(min(size, limit - sent))
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
                if pause:
                    await asyncio.sleep(pause)
        if self.cut is not None and self.cut < self.length:
            await _drop(scope, receive, abort=False)
            return
        await send({"type": "http.response.body", "body": b""})


# Faults of the generation route.


async def before_work(fault: Fault, request_id: str, drift: frozenset[str]) -> Response | None:
    """The answer a fault gives before any work is done, or None to let the request go on.

    A ``slow`` fault waits its delay and lets the request go on; so do the faults that strike
    after the generation ran (see :func:`after_work`).
    """
    if fault.kind is FaultKind.SLOW:
        await asyncio.sleep(fault.delay)
        return None
    if fault.kind is FaultKind.DROP_BEFORE:
        return DropBefore()
    if fault.kind is FaultKind.HTML:
        return HTMLResponse(PROXY_PAGE, status_code=502)
    if fault.kind is FaultKind.RATE_LIMITED:
        wait = fault.retry_after
        error = RequestError(429, headers={"Retry-After": f"{wait:g}", "retry-after-ms": str(int(wait * 1000))})
        return drifted_error(error.response(request_id), drift)
    if fault.kind.value.isdigit():
        return drifted_error(RequestError(int(fault.kind.value)).response(request_id), drift)
    return None


def after_work(fault: Fault | None, body: dict[str, Any], headers: dict[str, str], drift: frozenset[str]) -> Response:
    """The answer to a generation that ran: cut or truncated by a fault that strikes now, else (drifted) JSON."""
    if fault is not None and fault.kind is FaultKind.DROP_MID:
        payload = json.dumps(body).encode()
        return _Cut(payload, 200, headers, keep=int(len(payload) * fault.cut_at))
    if fault is not None and fault.kind is FaultKind.MALFORMED_JSON:
        payload = json.dumps(body).encode()
        return Response(payload[: len(payload) // 2], 200, headers, media_type="application/json")
    return drifted_success(body, headers, drift)


# Faults of the video route.


def faulty_download(
    fault: Fault, path: Path, *, start: int, length: int, status: int, headers: dict[str, str]
) -> Response:
    """Serve bytes ``start`` to ``start + length - 1`` of a video as `fault` says: trickled, or cut short."""
    if fault.kind is FaultKind.SLOW_DOWNLOAD:
        return _FileSlice(path, start=start, length=length, status=status, headers=headers, spread=fault.delay)
    cut = int(length * fault.cut_at)
    return _FileSlice(path, start=start, length=length, status=status, headers=headers, cut=cut)


# Drift: answers that depart from the contract on purpose, for drift checks to catch.


def drifted_success(body: dict[str, Any], headers: dict[str, str], drift: frozenset[str]) -> JSONResponse:
    """A generation's 200 answer, departing from the contract in the ways `drift` names."""
    if "rename_url" in drift:
        body = {**body, "data": [{"video_url": item["url"]} for item in body["data"]]}
    if "created_string" in drift:
        body = {**body, "created": dt.datetime.fromtimestamp(body["created"], dt.UTC).isoformat()}
    return JSONResponse(body, status_code=201 if "new_status" in drift else 200, headers=headers)


def drifted_error(response: JSONResponse, drift: frozenset[str]) -> JSONResponse:
    """An error answer, departing from the contract in the ways `drift` names."""
    if not drift & {"error_code", "drop_request_id"}:
        return response
    body = json.loads(bytes(response.body))
    if "error_code" in drift:
        body["error"]["code"] = "err_" + str(body["error"]["code"]).upper()
    if "drop_request_id" in drift:
        del body["error"]["request_id"]
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return JSONResponse(body, status_code=response.status_code, headers=headers)
