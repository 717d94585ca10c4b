"""The happy path: ``POST /v1/videos/generations``, from the request's bytes to the video's URL.

A request is read (capped), parsed, authenticated, rate-counted, validated against the spec,
checked further, charged, rendered (or replayed for a repeated ``Idempotency-Key``) and answered.
Faults and drift are asked of the misbehaviour room at the two points where they strike: before
any work, and once the generation ran.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from . import _misbehaviour as misbehaviour
from . import _render
from ._body import parse_body
from ._entry import ModelSpec
from ._errors import RequestError, bad_request, new_request_id
from ._fetch import fetch
from ._inputs import Check, check_audio, check_image, frame_size, video_seconds
from ._journal import GenerationNotes, generation_record
from ._ledger import Generation, Ledger
from ._params import GenerationParams, Upload, parse_params, upsample
from ._state import EmulatorState
from ._store import VideoStore
from ._validation import validate_request

logger = logging.getLogger("qubrid_video_emulator")
T = TypeVar("T")


class Generations:
    """The generation operation, over the emulator's state and its store of rendered videos."""

    def __init__(self, state: EmulatorState, store: VideoStore) -> None:
        self.state = state
        self.store = store

    async def generate(self, request: Request) -> Response:
        """``POST /v1/videos/generations``: check, charge, render (or replay), answer the video URL."""
        notes = GenerationNotes(request_id=new_request_id(), received=time.time())
        # The accounts current on arrival: a reset while this request runs leaves it settling there.
        ledger = self.state.ledger
        drift = self.state.config.drift
        try:
            response = await self._generate(request, notes, ledger)
        except ClientDisconnect:
            notes.outcome = "client_disconnected"
            response = Response(status_code=400)
        except RequestError as error:
            notes.outcome = notes.outcome or f"error:{error.code}"
            response = misbehaviour.drifted_error(error.response(notes.request_id), drift)
        except Exception:
            logger.exception("emulator failed on request %s", notes.request_id)
            notes.outcome = "error:internal_error"
            response = misbehaviour.drifted_error(RequestError(500).response(notes.request_id), drift)
        status = None if isinstance(response, misbehaviour.DropBefore) else response.status_code
        self.state.record_request(generation_record(request, notes, status), ledger)
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

    async def _generate(self, request: Request, notes: GenerationNotes, ledger: Ledger) -> Response:
        body = await self._read_body(request)
        content_type = request.headers.get("content-type", "")
        notes.fields, notes.uploads = await parse_body(request, content_type, body)

        drift = self.state.config.drift
        fault = self.state.faults.next_fault("api")
        if fault is not None:
            notes.fault = fault.kind
            early = await misbehaviour.before_work(fault, notes.request_id, drift)
            if early is not None:
                notes.outcome = f"fault:{fault.kind.value}"
                return early

        key, policy = ledger.authenticate(request.headers.get("authorization"))
        notes.key = key
        ledger.check_rate(key, policy)
        validate_request(request.headers, content_type, body)
        params, spec = parse_params(notes.fields, notes.uploads, self.state.config.models)
        if policy.models is not None and params.model not in policy.models:
            raise RequestError(403, param="model")

        generation, replayed = await self._generate_once(request, ledger, key, params, spec)
        notes.outcome = "replayed" if replayed else "generated"
        notes.generation_id = generation.generation_id
        return misbehaviour.after_work(fault, generation.body, {"x-request-id": notes.request_id}, drift)

    async def _generate_once(
        self, request: Request, ledger: Ledger, key: str, params: GenerationParams, spec: ModelSpec
    ) -> tuple[Generation, bool]:
        """Run the generation, or replay the one already run for this request's Idempotency-Key (True)."""
        idempotency_key = request.headers.get("idempotency-key")
        fingerprint = hashlib.sha256(repr(params).encode()).hexdigest()
        if idempotency_key:
            existing = ledger.idempotent(key, idempotency_key)
            if existing is not None:
                generation = await asyncio.shield(existing)
                if generation.fingerprint != fingerprint:
                    raise bad_request(
                        "This Idempotency-Key was already used with different parameters.",
                        param=None,
                        code="idempotency_key_reused",
                    )
                return generation, True
        claim = ledger.claim(key, idempotency_key) if idempotency_key else None
        try:
            generation = await self._run_generation(
                request, ledger, key, params=params, spec=spec, fingerprint=fingerprint
            )
        except BaseException as exc:
            if claim is not None and idempotency_key:
                ledger.release(key, idempotency_key)
                claim.set_exception(exc if isinstance(exc, RequestError) else RequestError(500))
                claim.exception()  # mark retrieved: nobody may be waiting on it
            raise
        if claim is not None:
            claim.set_result(generation)
        return generation, False

    async def _run_generation(
        self, request: Request, ledger: Ledger, key: str, *, params: GenerationParams, spec: ModelSpec, fingerprint: str
    ) -> Generation:
        job = await self._render_job(params, spec)
        cost = spec.credits(params.resolution, params.draft, job.duration)
        ledger.charge(key, cost)
        try:
            video, _ = await asyncio.gather(self.store.get_or_render(job), asyncio.sleep(self.state.config.latency))
        except BaseException:
            ledger.refund(key, cost)
            raise
        number = ledger.count_generation()
        body = {"created": int(time.time()), "data": [{"url": f"{self._files_origin(request)}/files/{video.name}"}]}
        return Generation(generation_id=f"gen-{number}", fingerprint=fingerprint, body=body)

    async def _render_job(self, params: GenerationParams, spec: ModelSpec) -> _render.RenderJob:
        """Gather and check the inputs (uploads first, else URLs, fetched only where allowed); size the video."""
        image, image_label = await self._media(params.image_file, params.image_url, "image")
        audio, _ = await self._media(params.audio_file, params.audio_url, "audio")
        image_field = "image_file" if params.image_file is not None else "image"
        audio_field = "audio_file" if params.audio_file is not None else "audio"
        picture = await self._checked(check_image, image_field, spec, image, params.image_url)
        sound = await self._checked(check_audio, audio_field, spec, audio, params.audio_url)
        width, height = frame_size(spec, params.resolution, params.aspect_ratio, picture)
        return _render.RenderJob(
            width=width,
            height=height,
            fps=params.fps,
            duration=video_seconds(spec, params.duration, sound),
            text=upsample(params.prompt) if params.prompt_upsampling else (params.prompt or " "),
            draft=params.draft,
            image=image,
            image_label=image_label,
            audio=audio if params.save_audio else None,
            fast=self.state.config.render == "fast",
        )

    async def _checked(self, check: Check[T], name: str, spec: ModelSpec, data: bytes | None, url: str | None) -> T:
        """Run an input's check off the event loop (decoding is CPU work); a ValueError is a 400 naming `name`."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, check, spec, data, url)
        except ValueError as exc:
            raise bad_request(f"Invalid value for '{name}': {exc}.", param=name) from None

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
