"""Check answers against the bundled spec, to see the moment the live API drifts from it.

openapi-core is an optional dependency (``pip install 'qubrid-video[contract]'``), imported only
when validation is switched on, so ``import qubrid_video`` stays light.
"""

from __future__ import annotations

import functools
import importlib
import json
from importlib import resources
from typing import Any

import httpx

from ._errors import InvalidParameterError

OPERATION = ("post", "/videos/generations")


class ContractDriftWarning(UserWarning):
    """An answer did not match the API contract the SDK was generated from; the call went on."""


def _require(module: str) -> Any:
    """Import an optional dependency of validation, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InvalidParameterError(
            "validate_responses", f"needs {exc.name}: pip install 'qubrid-video[contract]'"
        ) from None


@functools.cache
def _spec() -> dict[str, Any]:
    """The bundled spec, parsed once for both validation paths."""
    text = resources.files("qubrid_video_api_client").joinpath("openapi.yaml").read_text(encoding="utf-8")
    spec: dict[str, Any] = _require("yaml").safe_load(text)
    return spec


@functools.cache
def _openapi() -> tuple[Any, str, str]:
    """openapi-core's validator for the bundled spec, with the spec's server origin and path prefix."""
    spec = _spec()
    scheme, rest = spec["servers"][0]["url"].split("://", 1)
    host, _, prefix = rest.partition("/")
    return _require("openapi_core").OpenAPI.from_dict(spec), f"{scheme}://{host}", "/" + prefix.strip("/")


def ensure_available() -> None:
    """Raise InvalidParameterError now, at construction, if validation cannot run."""
    _validators()


class _Request:
    def __init__(self, origin: str, prefix: str) -> None:
        from openapi_core.datatypes import RequestParameters  # noqa: PLC0415

        self.parameters = RequestParameters()
        self.host_url = origin
        self.path = prefix + OPERATION[1]
        self.method = OPERATION[0]
        self.content_type = "application/json"
        self.body = b"{}"


class _Response:
    def __init__(self, response: httpx.Response, body: bytes) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content_type = response.headers.get("content-type", "")
        self.data = body


def _describe(error: BaseException) -> list[str]:
    cause = error.__cause__ or error
    details = getattr(cause, "schema_errors", None)
    if details:
        found = []
        for detail in details:
            where = "/".join(str(p) for p in getattr(detail, "absolute_path", [])) or "(body)"
            found.append(f"body {where}: {getattr(detail, 'message', detail)}"[:300])
        return found
    return [f"{type(cause).__name__}: {cause}"[:300]]


def _inline(node: Any, components: dict[str, Any]) -> Any:
    """The schema with its local $refs replaced by what they point to (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {key: _inline(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    return node


@functools.cache
def _validators() -> dict[str, Any]:
    """One compiled JSON-schema validator per documented status: the per-call fast path."""
    validator = _require("openapi_schema_validator").OAS30Validator
    spec = _spec()
    responses = spec["paths"][OPERATION[1]][OPERATION[0]]["responses"]
    components = spec["components"]["schemas"]
    return {
        status: validator(_inline(answer["content"]["application/json"]["schema"], components))
        for status, answer in responses.items()
    }


def _fast_check(response: httpx.Response, body: bytes) -> list[str]:
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media != "application/json":
        return [f"content type {media or '(none)'} is not the documented application/json"]
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ["body is not valid JSON"]
    validator = _validators()[str(response.status_code)]
    return [
        f"body {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"[:300]
        for e in validator.iter_errors(data)
    ]


def contract_drift(response: httpx.Response, body: bytes | None = None, *, thorough: bool = False) -> list[str]:
    """What in `response` (to a video generation request) departs from the bundled spec; empty if nothing.

    Args:
        response: The answer, its body already read (or passed as `body`).
        body: The body, when the response was streamed.
        thorough: Validate with openapi-core's full response validation (as ``contract-check``
            does) instead of the compiled schemas the client's validation mode uses per call.

    Raises:
        InvalidParameterError: openapi-core is not installed.
    """
    status = response.status_code
    documented = _validators()
    if str(status) not in documented:
        return [f"status {status} is not documented (documented: {', '.join(sorted(documented))})"]
    data = response.content if body is None else body
    if thorough:
        openapi, origin, prefix = _openapi()
        try:
            openapi.validate_response(_Request(origin, prefix), _Response(response, data))
            found: list[str] = []
        except Exception as error:  # openapi-core's errors share no useful base; each is described
            found = _describe(error)
    else:
        found = _fast_check(response, data)
    if status != 200 and "x-request-id" not in response.headers:
        found.append("header x-request-id is missing")
    return found
