"""The emulator's routing: which room answers which path, on which origin.

The rooms, each a module:

- ``_generation.py``, the happy path: ``POST /v1/videos/generations``, from bytes to a video URL.
- ``_misbehaviour.py``: faults turned into answers, and drift from the contract.
- ``_cdn.py``, the emulated CDN: ``GET``/``HEAD /files/{name}``, byte ranges read by ``_ranges.py``.
- ``_control.py``, the control API: ``/_emulator/health``, ``journal``, ``faults``, ``keys``.
- ``_journal.py``, the journal's entries (the public classes of ``_records.py``), built once a
  request is answered.

Below them: ``_body.py`` and ``_params.py`` read a request; ``_validation.py`` and ``_spec.py``
hold it to the contract, ``_catalog.py`` and ``_entry.py`` to the model's published options (``models.yaml``);
``_state.py`` remembers (journal entries, keys, credits, idempotency); ``_fetch.py``,
``_inputs.py``, ``_render.py`` (or ``_render_fast.py``) and ``_store.py`` make the video; ``_connections.py`` and
``_server.py`` run it all under uvicorn.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ExceptionHandler, Receive, Scope, Send

from ._cdn import Files
from ._control import ControlAPI, guarded
from ._errors import error_response
from ._generation import Generations
from ._spec import OPERATION_PATH, api_prefix
from ._state import EmulatorState
from ._store import VideoStore


class EmulatorApp:
    """The ASGI application: routes each connection by the port it arrived on.

    Requests to the files port (the emulated CDN) see only the video route; the API port serves the
    generation operation and the control API (and the videos too, in same-origin mode).
    """

    def __init__(self, state: EmulatorState, store: VideoStore) -> None:
        self.state = state
        generations, files, control = Generations(state, store), Files(state, store), ControlAPI(state)
        video_routes = [Route("/files/{name}", files.download, methods=["GET", "HEAD"])]
        api_routes = [
            Route(api_prefix() + OPERATION_PATH, generations.generate, methods=["POST"]),
            Route("/_emulator/health", guarded(control.health), methods=["GET"]),
            Route("/_emulator/journal", guarded(control.journal), methods=["GET", "DELETE"]),
            Route("/_emulator/faults", guarded(control.faults), methods=["POST", "DELETE"]),
            Route("/_emulator/keys", guarded(control.keys), methods=["POST"]),
        ]
        if state.config.same_origin_files:
            api_routes += video_routes
        handlers: dict[object, ExceptionHandler] = {HTTPException: _http_error}
        self.api = Starlette(routes=api_routes, exception_handlers=handlers)
        self.files = Starlette(routes=video_routes, exception_handlers=handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch to the files or the API application."""
        port = (scope.get("server") or (None, None))[1]
        target = self.files if self.state.files_port is not None and port == self.state.files_port else self.api
        try:
            await target(scope, receive, send)
        except asyncio.CancelledError:
            if not self.state.stopping:
                raise
            # Emulator.stop() cancelled what was still running: going away is not an error to log.


async def _http_error(request: Request, exc: Exception) -> Response:
    """A path or method no route serves: the spec's error shape, not Starlette's plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"{request.method} {request.url.path}: {getattr(exc, 'detail', 'error')}"
    return error_response(status, message, code="not_found" if status == 404 else "invalid_request")
