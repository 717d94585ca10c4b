"""The emulator's HTTP surface: the API origin (generation, control API) and the "CDN" origin (videos)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import _render
from ._body import parse_body
from ._config import KeyPolicy
from ._control import guarded, json_object
from ._errors import RequestError, bad_request, error_response, new_request_id
from ._faults import Fault, FaultKind
from ._fetch import fetch
from ._params import GenerationParams, Upload, parse_params, upsample
from ._ranges import RangeNotSatisfiable, byte_range
from ._spec import OPERATION_PATH, api_prefix
from ._state import EmulatorState, Generation, key_label
from ._store import VideoStore
from ._validation import validate_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRANSPORT_KEY = "qubrid.transport"
CHUNK = 256 * 1024
logger = logging.getLogger("qubrid_video_emulator")

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


class _DropBefore(Response):
    """No answer at all: the connection closes after the request was read."""

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


class EmulatorApp:
    """The ASGI application: routes each connection by the port it arrived on.

    Requests to the files port (the emulated CDN) see only the video route; the API port serves the
    generation operation and the control API (and the videos too, in same-origin mode).
    """

    def __init__(self, state: EmulatorState, store: VideoStore) -> None:
        self.state = state
        self.store = store
        prefix = api_prefix()
        files = [Route("/files/{name}", self.download, methods=["GET", "HEAD"])]
        handlers: dict[Any, Callable[..., Any]] = {HTTPException: self._http_error}
        api_routes = [
            Route(prefix + OPERATION_PATH, self.generate, methods=["POST"]),
            Route("/_emulator/health", guarded(self.health), methods=["GET"]),
            Route("/_emulator/journal", guarded(self.journal), methods=["GET", "DELETE"]),
            Route("/_emulator/faults", guarded(self.faults), methods=["POST", "DELETE"]),
            Route("/_emulator/keys", guarded(self.keys), methods=["POST"]),
        ]
        if state.config.same_origin_files:
            api_routes += files
        self.api = Starlette(routes=api_routes, exception_handlers=handlers)
        self.files = Starlette(routes=files, exception_handlers=handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch to the files or the API application."""
        port = (scope.get("server") or (None, None))[1]
        target = self.files if self.state.files_port is not None and port == self.state.files_port else self.api
        await target(scope, receive, send)

    @staticmethod
    async def _http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        request_id = new_request_id()
        body = {"error": {"message": f"{request.method} {request.url.path}: {getattr(exc, 'detail', 'error')}",
                          "type": "invalid_request_error", "code": "not_found" if status == 404 else "invalid_request",
                          "param": None, "request_id": request_id}}  # fmt: skip
        return JSONResponse(body, status_code=status, headers={"x-request-id": request_id})

    # The generation operation.

    async def generate(self, request: Request) -> Response:
        """``POST /v1/videos/generations``: check, charge, render (or replay), answer the video URL."""
        request_id = new_request_id()
        entry: dict[str, Any] = {
            "request_id": request_id,
            "time": time.time(),
            "content_type": request.headers.get("content-type"),
            "idempotency_key": request.headers.get("idempotency-key"),
            "authorization": "authorization" in request.headers,
            "key": None,
            "fields": {},
            "files": {},
            "fault": None,
            "status": None,
            "outcome": None,
            "generation_id": None,
        }
        try:
            response = await self._generate(request, request_id, entry)
        except ClientDisconnect:
            entry["outcome"] = "client_disconnected"
            response = Response(status_code=400)
        except RequestError as error:
            entry["outcome"] = entry["outcome"] or f"error:{error.code}"
            response = self._drift_error(error.response(request_id))
        except Exception:
            logger.exception("emulator failed on request %s", request_id)
            entry["outcome"] = "error:internal_error"
            response = self._drift_error(RequestError(500).response(request_id))
        entry["status"] = None if isinstance(response, _DropBefore) else response.status_code
        entry["answered"] = time.time()
        self.state.record_request(entry)
        return response

    async def _read_body(self, request: Request) -> bytes:
        limit = self.state.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise bad_request(f"The request body is larger than {limit} bytes.", param=None, code="request_too_large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise bad_request(
                    f"The request body is larger than {limit} bytes.", param=None, code="request_too_large"
                )
        return bytes(body)

    async def _generate(self, request: Request, request_id: str, entry: dict[str, Any]) -> Response:
        body = await self._read_body(request)
        content_type = request.headers.get("content-type", "")
        fields, files = await parse_body(request, content_type, body)
        entry["fields"] = {k: (v[:200] if isinstance(v, str) else v) for k, v in fields.items()}
        entry["files"] = {
            name: {"sha256": hashlib.sha256(f.data).hexdigest(), "size": len(f.data), "filename": f.filename,
                   "content_type": f.content_type}
            for name, f in files.items()
        }  # fmt: skip

        fault = self.state.faults.next_fault("api")
        early = await self._early_fault(fault, entry) if fault else None
        if early is not None:
            return early

        key, policy = self.state.authenticate(request.headers.get("authorization"))
        entry["key"] = key_label(key)
        self.state.check_rate(key, policy)
        validate_request(request.headers, content_type, body)
        params = parse_params(fields, files)
        if params.model not in self.state.config.models:
            raise RequestError(
                404, f"The model '{params.model[:100]}' does not exist or is not available.", param="model"
            )
        if policy.models is not None and params.model not in policy.models:
            raise RequestError(403, param="model")

        generation = await self._generate_once(request, key, params, entry)
        entry["generation_id"] = generation.generation_id
        headers = {"x-request-id": request_id}
        if fault is not None and fault.kind is FaultKind.DROP_MID:
            payload = json.dumps(generation.body).encode()
            return _Cut(payload, 200, headers, keep=int(len(payload) * fault.cut_at))
        if fault is not None and fault.kind is FaultKind.MALFORMED_JSON:
            payload = json.dumps(generation.body).encode()
            return Response(payload[: len(payload) // 2], 200, headers, media_type="application/json")
        return self._drift_success(generation.body, headers)

    # Drift mode: answers that depart from the contract on purpose, for drift checks to catch.

    def _drift_success(self, body: dict[str, Any], headers: dict[str, str]) -> JSONResponse:
        drift = self.state.config.drift
        if "rename_url" in drift:
            body = {**body, "data": [{"video_url": item["url"]} for item in body["data"]]}
        if "created_string" in drift:
            body = {**body, "created": dt.datetime.fromtimestamp(body["created"], dt.UTC).isoformat()}
        return JSONResponse(body, status_code=201 if "new_status" in drift else 200, headers=headers)

    def _drift_error(self, response: JSONResponse) -> JSONResponse:
        drift = self.state.config.drift
        if not drift & {"error_code", "drop_request_id"}:
            return response
        body = json.loads(bytes(response.body))
        if "error_code" in drift:
            body["error"]["code"] = "err_" + str(body["error"]["code"]).upper()
        if "drop_request_id" in drift:
            del body["error"]["request_id"]
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
        return JSONResponse(body, status_code=response.status_code, headers=headers)

    async def _early_fault(self, fault: Fault, entry: dict[str, Any]) -> Response | None:
        """Apply a fault that strikes before any work; None when it lets the request go on."""
        entry["fault"] = fault.kind.value
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind is FaultKind.DROP_BEFORE:
            entry["outcome"] = "fault:drop_before"
            return _DropBefore()
        if fault.kind is FaultKind.HTML:
            entry["outcome"] = "fault:html"
            return HTMLResponse(PROXY_PAGE, status_code=502)
        if fault.kind is FaultKind.RATE_LIMITED:
            entry["outcome"] = "fault:429"
            wait = fault.retry_after
            raise RequestError(429, headers={"Retry-After": f"{wait:g}", "retry-after-ms": str(int(wait * 1000))})
        if fault.kind.value.isdigit():
            entry["outcome"] = f"fault:{fault.kind.value}"
            raise RequestError(int(fault.kind.value))
        return None

    async def _generate_once(
        self, request: Request, key: str, params: GenerationParams, entry: dict[str, Any]
    ) -> Generation:
        """Run the generation, or replay the one already run for this request's Idempotency-Key."""
        idempotency_key = request.headers.get("idempotency-key")
        fingerprint = hashlib.sha256(repr(params).encode()).hexdigest()
        if idempotency_key:
            existing = self.state.idempotent(key, idempotency_key)
            if existing is not None:
                generation = await asyncio.shield(existing)
                if generation.fingerprint != fingerprint:
                    raise bad_request(
                        "This Idempotency-Key was already used with different parameters.",
                        param=None,
                        code="idempotency_key_reused",
                    )
                entry["outcome"] = "replayed"
                return generation
        claim = self.state.claim(key, idempotency_key) if idempotency_key else None
        try:
            generation = await self._run_generation(request, key, params, fingerprint)
        except BaseException as exc:
            if claim is not None and idempotency_key:
                self.state.release(key, idempotency_key)
                claim.set_exception(exc if isinstance(exc, RequestError) else RequestError(500))
                claim.exception()  # mark retrieved: nobody may be waiting on it
            raise
        if claim is not None:
            claim.set_result(generation)
        entry["outcome"] = "generated"
        return generation

    async def _run_generation(
        self, request: Request, key: str, params: GenerationParams, fingerprint: str
    ) -> Generation:
        job = await self._render_job(params)
        cost = params.duration
        self.state.charge(key, cost)
        try:
            video, _ = await asyncio.gather(self.store.get_or_render(job), asyncio.sleep(self.state.config.latency))
        except BaseException:
            self.state.refund(key, cost)
            raise
        self.state.generations += 1
        body = {"created": int(time.time()), "data": [{"url": f"{self._files_origin(request)}/files/{video.name}"}]}
        return Generation(generation_id=f"gen-{self.state.generations}", fingerprint=fingerprint, body=body)

    async def _render_job(self, params: GenerationParams) -> _render.RenderJob:
        """Gather and check the inputs: uploads first, else URLs (fetched only where allowed)."""
        image, image_label = await self._media(params.image_file, params.image_url, "image")
        audio, _ = await self._media(params.audio_file, params.audio_url, "audio")
        loop = asyncio.get_running_loop()
        for data, check, param in ((image, _render.check_image, "image"), (audio, _render.check_audio, "audio")):
            if data is None:
                continue
            try:
                await loop.run_in_executor(None, check, data)
            except ValueError as exc:
                name = f"{param}_file" if getattr(params, f"{param}_file") is not None else param
                raise bad_request(f"Invalid value for '{name}': {exc}.", param=name) from None
        width, height = params.size
        return _render.RenderJob(
            width=width,
            height=height,
            fps=params.fps,
            duration=params.duration,
            text=upsample(params.prompt) if params.prompt_upsampling else (params.prompt or " "),
            draft=params.draft,
            image=image,
            image_label=image_label,
            audio=audio if params.save_audio else None,
        )

    async def _media(self, upload: Upload | None, url: str | None, param: str) -> tuple[bytes | None, str | None]:
        if upload is not None:
            return upload.data, None
        if url is None:
            return None, None
        config = self.state.config
        try:
            data = await fetch(
                url, allow_remote=config.fetch_remote, timeout=config.fetch_timeout, max_bytes=config.fetch_max_bytes
            )
        except ValueError as exc:
            raise bad_request(f"Invalid value for '{param}': {exc}.", param=param) from None
        return data, (None if data is not None else url)

    def _files_origin(self, request: Request) -> str:
        if self.state.files_port is None:
            return str(request.base_url).rstrip("/")
        host = request.url.hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"{request.url.scheme}://{host}:{self.state.files_port}"

    # The emulated CDN.

    async def download(self, request: Request) -> Response:
        """``GET /files/{name}``: the video, with ``ETag``, ``Content-Length`` and single ``Range`` support."""
        request_id = new_request_id()
        entry: dict[str, Any] = {
            "request_id": request_id,
            "time": time.time(),
            "name": request.path_params["name"],
            "authorization": "authorization" in request.headers,
            "range": request.headers.get("range"),
            "if_range": request.headers.get("if-range"),
            "fault": None,
            "status": None,
        }
        response = self._download(request, request_id, entry)
        entry["status"] = response.status_code
        self.state.record_download(entry)
        return response

    def _download(self, request: Request, request_id: str, entry: dict[str, Any]) -> Response:
        video = self.store.lookup(request.path_params["name"])
        if video is None:
            return error_response(404, "No such video.", code="file_error", request_id=request_id)
        headers = {"etag": video.etag, "accept-ranges": "bytes", "x-request-id": request_id}
        start, end, status = 0, video.size - 1, 200
        wanted = request.headers.get("range")
        if_range = request.headers.get("if-range")
        try:
            span = byte_range(wanted, video.size) if wanted and if_range in (None, video.etag) else None
        except RangeNotSatisfiable:
            unsatisfiable = {"content-range": f"bytes */{video.size}"}
            return error_response(416, "Range not satisfiable.", code="file_error", request_id=request_id,
                                  headers=unsatisfiable)  # fmt: skip
        if span is not None:
            start, end, status = span[0], span[1], 206
            headers["content-range"] = f"bytes {start}-{end}/{video.size}"
        length = end - start + 1
        headers["content-length"] = str(length)
        fault = self.state.faults.next_fault("download")
        cut, spread = None, 0.0
        if fault is not None:
            entry["fault"] = fault.kind.value
            if fault.kind is FaultKind.SLOW_DOWNLOAD:
                spread = fault.delay
            else:
                cut = int(length * fault.cut_at)
        return _FileSlice(
            video.path, start=start, length=length, status=status, headers=headers, cut=cut, spread=spread
        )

    # The control API, for tests and for rehearsing failures.

    async def health(self, request: Request) -> JSONResponse:
        """``GET /_emulator/health``: liveness and how many generations ran."""
        return JSONResponse({"status": "ok", "generations": self.state.generations})

    async def journal(self, request: Request) -> JSONResponse:
        """``GET`` returns everything received; ``DELETE`` forgets it."""
        if request.method == "DELETE":
            self.state.clear_journal()
        return JSONResponse(self.state.journal())

    async def faults(self, request: Request) -> JSONResponse:
        """Change the fault plan.

        ``POST {"kind", "count", ...}`` queues faults, ``POST {"rate", "kinds", "seed"}`` randomises
        them, ``DELETE`` clears them all.
        """
        if request.method == "DELETE":
            self.state.faults.clear()
            return JSONResponse({"pending": 0})
        try:
            spec = await json_object(request)
            knobs = {k: float(spec[k]) for k in ("delay", "retry_after", "cut_at") if k in spec}
            if "rate" in spec:
                kinds = [Fault(kind, **knobs) for kind in spec.get("kinds") or list(FaultKind)]
                self.state.faults.set_rate(float(spec["rate"]), kinds, int(spec.get("seed", 0)))
            else:
                self.state.faults.add(Fault(spec["kind"], **knobs), int(spec.get("count", 1)))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad fault request: {exc}"}, status_code=400)
        return JSONResponse({"pending": self.state.faults.pending()})

    async def keys(self, request: Request) -> JSONResponse:
        """``POST {"key", "credits", "models", "rate_limit"}``: accept another API key."""
        try:
            spec = await json_object(request)
            policy = KeyPolicy(
                credits=spec.get("credits"), models=spec.get("models"), rate_limit=spec.get("rate_limit")
            )
            self.state.add_key(str(spec["key"]), policy)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad key request: {exc}"}, status_code=400)
        return JSONResponse({"added": key_label(str(spec["key"]))})
