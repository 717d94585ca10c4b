"""openapi-core's request and response protocols over httpx objects (openapi-core ships no httpx adapter)."""

from __future__ import annotations

import functools

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters

from .conftest import SPEC_PATH

SERVER = "https://platform.qubrid.com/v1"


@functools.cache
def openapi() -> OpenAPI:
    """The vendor's spec, loaded once for validation."""
    return OpenAPI.from_file_path(str(SPEC_PATH))


class HttpxOpenAPIRequest:
    """An httpx.Request, presented under the spec's own server so a loopback URL still matches it."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(query=dict(request.url.params), header=request.headers, cookie={})
        self.host_url = "https://platform.qubrid.com"
        self.method = request.method.lower()

    @property
    def path(self) -> str:
        return "/v1" + self._request.url.path.split("/v1", 1)[-1]

    @property
    def body(self) -> bytes:
        return self._request.read()

    @property
    def content_type(self) -> str:
        return self._request.headers["content-type"]


class HttpxOpenAPIResponse:
    """An httpx.Response for openapi-core."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content_type = response.headers.get("content-type", "")
        self.data = response.content


def validate_response(response: httpx.Response) -> None:
    """Raise unless `response` (to a request on the generation operation) conforms to the spec."""
    openapi().validate_response(HttpxOpenAPIRequest(response.request), HttpxOpenAPIResponse(response))
