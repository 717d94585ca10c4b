"""The emulated CDN: ``GET``/``HEAD /files/{name}`` serves a rendered video, whole or one byte range.

Answers carry ``ETag``, ``Content-Length`` and ``Accept-Ranges``; a ``Range`` is read as
``_ranges.py`` says (RFC 9110), honoured only when ``If-Range`` is absent or names the current
``ETag``, so an interrupted download can resume. Starlette's ``FileResponse`` sends the bytes;
a download fault is served by the misbehaviour room instead.
"""

from __future__ import annotations

import time
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from . import _misbehaviour as misbehaviour
from ._errors import error_response, new_request_id
from ._faults import FaultKind
from ._journal import download_record
from ._ranges import RangeNotSatisfiable, byte_range
from ._state import EmulatorState
from ._store import VideoStore


class Files:
    """The video route, over the store of rendered videos."""

    def __init__(self, state: EmulatorState, store: VideoStore) -> None:
        self.state = state
        self.store = store

    async def download(self, request: Request) -> Response:
        """``GET /files/{name}``: the video, with ``ETag``, ``Content-Length`` and single ``Range`` support."""
        request_id, received = new_request_id(), time.time()
        response, status, fault = self._download(request, request_id)
        record = download_record(request, request_id=request_id, received=received, fault=fault, status=status)
        self.state.record_download(record)
        return response

    def _download(self, request: Request, request_id: str) -> tuple[Response, int, FaultKind | None]:
        """The answer, the status it sends, and the fault it got."""
        video = self.store.lookup(request.path_params["name"])
        if video is None:
            return error_response(404, "No such video.", code="file_error", request_id=request_id), 404, None
        headers = {"etag": video.etag, "accept-ranges": "bytes", "x-request-id": request_id}
        start, end, status = 0, video.size - 1, 200
        wanted = request.headers.get("range")
        if_range = request.headers.get("if-range")
        try:
            span = byte_range(wanted, video.size) if wanted and if_range in (None, video.etag) else None
        except RangeNotSatisfiable:
            unsatisfiable = {"content-range": f"bytes */{video.size}"}
            return error_response(416, "Range not satisfiable.", code="file_error", request_id=request_id,
                                  headers=unsatisfiable), 416, None  # fmt: skip
        if span is not None:
            start, end, status = span[0], span[1], 206
            headers["content-range"] = f"bytes {start}-{end}/{video.size}"
        length = end - start + 1
        headers["content-length"] = str(length)
        fault = self.state.faults.next_fault("download")
        if fault is not None:
            response = misbehaviour.faulty_download(
                fault, video.path, start=start, length=length, status=status, headers=headers
            )
            return response, status, fault.kind
        return _Video(video.path, span=span, headers=headers), status, None


class _Video(FileResponse):
    """Starlette's file answer, shown only the range the CDN chose (or none): it serves those bytes.

    Left to read ``Range`` and ``If-Range`` itself, it would answer several ranges with
    ``multipart/byteranges``, a header that does not parse with 400, an unsatisfiable range in
    plain text, and an ``If-Range`` date as a match; the CDN promises otherwise (see ``_ranges.py``).
    """

    def __init__(self, path: Path, *, span: tuple[int, int] | None, headers: dict[str, str]) -> None:
        super().__init__(path, headers=headers, media_type="video/mp4", stat_result=path.stat())
        # The CDN validates by ETag alone; a Last-Modified would invite If-Range dates it ignores.
        del self.headers["last-modified"]
        self.span = span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the file, or the chosen span of it (206), whatever ranges the request named."""
        chosen = [] if self.span is None else [(b"range", f"bytes={self.span[0]}-{self.span[1]}".encode())]
        headers = [(name, value) for name, value in scope["headers"] if name not in (b"range", b"if-range")]
        await super().__call__({**scope, "headers": headers + chosen}, receive, send)
