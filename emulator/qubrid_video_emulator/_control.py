"""The control API, for tests and for rehearsing failures: health, the journal, faults and keys.

Programs on this machine may drive the emulator; web pages may not. A page in a browser can POST
a ``text/plain`` body to any origin without asking first (no CORS preflight), so without the
guard any site the user visits could add keys or inject faults into an emulator on localhost.
Browsers say where a request comes from (``Origin``, ``Sec-Fetch-Site``); the SDK, curl and test
suites send neither, and send JSON.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from ._config import KeyPolicy
from ._errors import error_response
from ._faults import Fault, FaultKind
from ._journal import key_label
from ._state import EmulatorState

Handler = Callable[[Request], Awaitable[Response]]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _own_origins(scope: Scope) -> set[str]:
    """The origins naming the address and port this connection arrived on (and localhost, on loopback)."""
    host, port = scope.get("server") or ("", None)
    scheme = scope.get("scheme", "http")
    names = [host, "localhost"] if _is_loopback(host) else [host]
    hosts = [f"[{name}]" if ":" in name else name for name in names]
    ports = [f":{port}", ""] if port == _DEFAULT_PORTS.get(scheme) else [f":{port}"]
    return {f"{scheme}://{name}{suffix}" for name in hosts for suffix in ports}


def _refusal(request: Request) -> Response | None:
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site", "").lower()
    # "same-site" too: another port on localhost is another origin, but the same site.
    if (origin is not None and origin not in _own_origins(request.scope)) or site in ("cross-site", "same-site"):
        message = "The control API only accepts requests from this machine's programs, not from web pages."
        return error_response(403, message, code="forbidden_origin")
    has_body = request.method == "POST" or request.headers.get("content-length", "0") != "0"
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if (has_body or "transfer-encoding" in request.headers) and media != "application/json":
        message = "The control API takes a JSON body: send Content-Type: application/json."
        return error_response(415, message, code="unsupported_content_type")
    return None


def guarded(handler: Handler) -> Handler:
    """Wrap a control route: refuse foreign origins (403) and bodies that are not JSON (415)."""

    async def guard(request: Request) -> Response:
        refusal = _refusal(request)
        return refusal if refusal is not None else await handler(request)

    return guard


async def json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object.

    Raises:
        ValueError: the body is not JSON, nests past the parser's limit, or is not an object.
    """
    try:
        value = json.loads(await request.body())
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


class ControlAPI:
    """The ``/_emulator/`` routes' handlers, over the emulator's state; each route is :func:`guarded`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

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
