"""The API contract: the OpenAPI document the SDK was generated from, and everything read from it.

The generated client bundles the exact spec it was generated from (``openapi.yaml`` inside
``qubrid_video_api_client``). This module is the one place that reads it; the client's drift
check, the emulator, the command line and the tests all ask here:

- the document: :func:`spec` (parsed once, on first use) and :func:`spec_bytes`;
- the one operation the SDK calls, :data:`OPERATION`, under the spec's server: :func:`server_url`,
  :func:`server_origin`, :func:`api_prefix`;
- the documented answers: :func:`documented_statuses`, :func:`error_example`;
- local ``$ref`` resolution, in this document or any other: :func:`resolve`, :func:`inline`;
- openapi-core's request and response protocols (:class:`OpenAPIRequest`, :class:`OpenAPIResponse`),
  its validator for the spec (:func:`openapi`), :func:`validate_request` and :func:`validate_response`;
- the drift check the client's ``validate_responses`` mode runs: :func:`contract_drift`, which
  :class:`ContractDriftWarning` reports.

Importing this module costs nothing beyond httpx. The YAML parser and openapi-core are optional
(the ``contract`` extra: ``pip install 'qubrid-video[contract]'``) and imported on first use by the
functions that need them, which then raise ImportError naming the extra.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx

from ._errors import InvalidParameterError

if TYPE_CHECKING:
    from openapi_core import OpenAPI
    from openapi_core.datatypes import RequestParameters

__all__ = [
    "OPERATION",
    "ContractDriftWarning",
    "OpenAPIRequest",
    "OpenAPIResponse",
    "Operation",
    "api_prefix",
    "contract_drift",
    "documented_statuses",
    "ensure_available",
    "error_example",
    "inline",
    "openapi",
    "resolve",
    "server_origin",
    "server_url",
    "spec",
    "spec_bytes",
    "validate_request",
    "validate_response",
]

INSTALL = "pip install 'qubrid-video[contract]'"


class Operation(NamedTuple):
    """An operation of the spec: its method, lower case as the spec writes it, and its path below the server."""

    method: str
    path: str


OPERATION = Operation("post", "/videos/generations")
"""The operation the SDK calls (``POST /v1/videos/generations`` under the spec's server)."""


class ContractDriftWarning(UserWarning):
    """An answer did not match the API contract the SDK was generated from; the call went on."""


def _require(module: str) -> Any:
    """Import an optional dependency, or raise ImportError saying which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"needs {exc.name}: {INSTALL}", name=exc.name) from None


# The document.


def spec_bytes() -> bytes:
    """The bundled document, byte for byte as the vendor published it."""
    from importlib import resources  # noqa: PLC0415 - read on first use, so `import qubrid_video` skips it

    return resources.files("qubrid_video_api_client").joinpath("openapi.yaml").read_bytes()


@functools.cache
def _document() -> dict[str, Any]:
    """The bundled document, parsed once and shared inside this module, which never changes it."""
    document: dict[str, Any] = _require("yaml").safe_load(spec_bytes())
    return document


def spec() -> dict[str, Any]:
    """The bundled OpenAPI document, parsed: a copy of its own, so the caller may change it.

    Raises:
        ImportError: PyYAML is not installed.
    """
    return copy.deepcopy(_document())


def server_url() -> str:
    """The spec's server URL (``https://platform.qubrid.com/v1``), the SDK's default base URL."""
    url: str = _document()["servers"][0]["url"]
    return url.rstrip("/")


def server_origin() -> str:
    """The scheme and host of the spec's server URL (``https://platform.qubrid.com``)."""
    scheme, _, rest = server_url().partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"


def api_prefix() -> str:
    """The path of the spec's server URL (``/v1``), under which the operation's path lives."""
    return server_url().removeprefix(server_origin())


def _operation() -> dict[str, Any]:
    operation: dict[str, Any] = _document()["paths"][OPERATION.path][OPERATION.method]
    return operation


def documented_statuses() -> list[int]:
    """Every status code :data:`OPERATION` documents, in order."""
    return sorted(int(status) for status in _operation()["responses"])


@functools.cache
def _error_example(status: int) -> dict[str, Any]:
    schema = _operation()["responses"][str(status)]["content"]["application/json"]["schema"]
    error = resolve(resolve(schema)[0]["properties"]["error"])[0]
    return {name: resolve(field)[0].get("example") for name, field in error["properties"].items()}


def error_example(status: int) -> dict[str, Any]:
    """The spec's example error for a documented error status: each field of the body's ``error`` and its example.

    The emulator answers with these, quirks included (the 403 example's code is
    ``insufficient_quota``), and ``contract-check`` compares live answers with them.

    Raises:
        KeyError: `status` is not a documented error status.
    """
    return dict(_error_example(status))


# $ref resolution.


def resolve(node: Any, document: Mapping[str, Any] | None = None) -> tuple[Any, tuple[str, ...]]:
    """Follow `node`'s local ``$ref``, and the references it leads to, within `document`.

    Args:
        node: Any part of an OpenAPI document; a ``{"$ref": "#/..."}`` object is followed.
        document: The document the references point into; the bundled spec by default.

    Returns:
        What the reference points to, and the JSON-pointer parts of where that is; `node` itself
        and ``()`` when it is no reference.

    Raises:
        LookupError: A reference is not local, points nowhere, or leads back to itself.
    """
    root = _document() if document is None else document
    where: tuple[str, ...] = ()
    seen: set[str] = set()
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise LookupError(f"cannot follow $ref {ref!r}")
        seen.add(ref)
        where = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))
        node = root
        for part in where:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise LookupError(f"$ref {ref!r} points nowhere")
    return node, where


def inline(node: Any, document: Mapping[str, Any] | None = None) -> Any:
    """A copy of `node` with every local ``$ref`` in it replaced by what it points to.

    For schema validators that do not follow references. The document must not be recursive
    (the bundled spec is not).

    Raises:
        LookupError: A reference cannot be followed.
    """
    node, _ = resolve(node, document)
    if isinstance(node, Mapping):
        return {key: inline(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(item, document) for item in node]
    return node


# openapi-core.


class OpenAPIRequest:
    """openapi-core's request protocol for one request to the API, presented under the spec's own server.

    The path is put under the spec's server URL, so a request sent to the emulator or through any
    base URL matches the spec's server list as published.

    Args:
        path: The operation's path below the server (``/videos/generations``).
        method: The HTTP method.
        headers: The request's headers (a case-insensitive mapping, as the security check reads them).
        query: The query parameters.
        content_type: The Content-Type header's value.
        body: The body.

    Raises:
        ImportError: openapi-core is not installed.
    """

    def __init__(
        self,
        path: str = OPERATION.path,
        *,
        method: str = OPERATION.method,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        body: bytes = b"{}",
    ) -> None:
        parameters = _require("openapi_core.datatypes").RequestParameters
        self.parameters: RequestParameters = parameters(query=dict(query or {}), header=headers or {}, cookie={})
        self.host_url: str = server_origin()
        self.path: str = api_prefix() + path
        self.method: str = method.lower()
        self.content_type: str = content_type
        self.body: bytes = body

    @classmethod
    def of(cls, request: httpx.Request) -> OpenAPIRequest:
        """The adapter for an httpx request (whose body it reads) sent to a base URL ending like the server's."""
        path, prefix = request.url.path, api_prefix()
        return cls(
            path.split(prefix, 1)[1] if prefix and prefix in path else path,
            method=request.method,
            headers=request.headers,
            query=dict(request.url.params),
            content_type=request.headers.get("content-type", ""),
            body=request.read(),
        )


class OpenAPIResponse:
    """openapi-core's response protocol for an httpx response, its body read (or passed as `body`)."""

    def __init__(self, response: httpx.Response, body: bytes | None = None) -> None:
        self.status_code: int = response.status_code
        self.headers: httpx.Headers = response.headers
        self.content_type: str = response.headers.get("content-type", "")
        self.data: bytes = response.content if body is None else body


@functools.cache
def openapi() -> OpenAPI:
    """openapi-core's validator for the bundled spec, built once.

    Raises:
        ImportError: openapi-core or PyYAML is not installed.
    """
    validator: OpenAPI = _require("openapi_core").OpenAPI.from_dict(_document())
    return validator


def validate_request(request: OpenAPIRequest | httpx.Request) -> None:
    """Raise openapi-core's error unless `request` conforms to the spec.

    Raises:
        ImportError: openapi-core is not installed.
    """
    openapi().validate_request(request if isinstance(request, OpenAPIRequest) else OpenAPIRequest.of(request))


def validate_response(response: httpx.Response, body: bytes | None = None) -> None:
    """Raise openapi-core's error unless `response`, an answer to :data:`OPERATION`, conforms to the spec.

    Raises:
        ImportError: openapi-core is not installed.
    """
    openapi().validate_response(OpenAPIRequest(), OpenAPIResponse(response, body))


# The drift check.


def ensure_available() -> None:
    """Raise InvalidParameterError (for ``validate_responses``) now if the drift check cannot run."""
    _checkers()


@functools.cache
def _compiled() -> dict[str, Any]:
    validator = _require("openapi_schema_validator").OAS30Validator
    return {
        status: validator(inline(answer["content"]["application/json"]["schema"]))
        for status, answer in _operation()["responses"].items()
    }


def _checkers() -> dict[str, Any]:
    """One compiled JSON-schema validator per documented status: the per-call fast path."""
    try:
        return _compiled()
    except ImportError as exc:
        raise InvalidParameterError("validate_responses", str(exc)) from None


def _fast_check(response: httpx.Response, body: bytes) -> list[str]:
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media != "application/json":
        return [f"content type {media or '(none)'} is not the documented application/json"]
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ["body is not valid JSON"]
    validator = _checkers()[str(response.status_code)]
    return [
        f"body {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"[:300]
        for e in validator.iter_errors(data)
    ]


def _thorough_check(response: httpx.Response, body: bytes) -> list[str]:
    try:
        validate_response(response, body)
    except ImportError as exc:
        raise InvalidParameterError("validate_responses", str(exc)) from None
    except Exception as error:  # openapi-core's errors share no useful base; each is described
        cause = error.__cause__ or error
        details = getattr(cause, "schema_errors", None)
        if not details:
            return [f"{type(cause).__name__}: {cause}"[:300]]
        found = []
        for detail in details:
            where = "/".join(str(p) for p in getattr(detail, "absolute_path", [])) or "(body)"
            found.append(f"body {where}: {getattr(detail, 'message', detail)}"[:300])
        return found
    return []


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
    documented = _checkers()
    if str(status) not in documented:
        return [f"status {status} is not documented (documented: {', '.join(sorted(documented))})"]
    data = response.content if body is None else body
    found = _thorough_check(response, data) if thorough else _fast_check(response, data)
    if status != 200 and "x-request-id" not in response.headers:
        found.append("header x-request-id is missing")
    return found
