"""Error answers shaped exactly like the spec's error schemas."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

from ._spec import error_defaults


def new_request_id() -> str:
    """A fresh request id in the vendor's style (``req-qubrid-…``)."""
    return f"req-qubrid-{secrets.token_hex(8)}"


class RequestError(Exception):
    """Raised inside the emulator to answer with a documented error status."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        error_type, default_code, default_message = error_defaults(status)
        super().__init__(message or default_message)
        self.status = status
        self.type = error_type
        self.code = code or default_code
        self.message = message or default_message
        self.param = param
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body: ``{"error": {message, type, code, param, request_id}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "code": self.code,
                "param": self.param,
                "request_id": request_id,
            }
        }

    def response(self, request_id: str) -> JSONResponse:
        """The whole HTTP answer, with the request id in the body and the ``x-request-id`` header."""
        headers = {**self.headers, "x-request-id": request_id}
        return JSONResponse(self.body(request_id), status_code=self.status, headers=headers)


def bad_request(message: str, *, param: str | None, code: str = "invalid_request") -> RequestError:
    """A 400 naming the offending field."""
    return RequestError(400, message, code=code, param=param)


def error_response(
    status: int,
    message: str,
    *,
    code: str,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error answer outside the operation's documented statuses (the CDN, the control API), in its shape."""
    request_id = request_id or new_request_id()
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None,
                      "request_id": request_id}}  # fmt: skip
    return JSONResponse(body, status_code=status, headers={**(headers or {}), "x-request-id": request_id})
