"""The emulator against hostile clients (issue #12): odd numbers, bombs, ranges, big pictures, CSRF, redirects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from qubrid_video_emulator import Emulator

from .openapi_adapters import validate_response

TINY = {"model": "p-video", "prompt": "A butterfly", "duration": 1, "fps": 2, "resolution": "360p", "draft": True}
AUTH = {"Authorization": "Bearer sk-qubrid-emulator"}


def _generate(emulator: Emulator, **kwargs: Any) -> httpx.Response:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return httpx.post(f"{emulator.base_url}/videos/generations", headers=headers, timeout=60, **kwargs)


def _assert_400(response: httpx.Response, param: str | None) -> str:
    """A spec-conformant 400 naming `param`, its request id in the body and the header; returns the message."""
    assert response.status_code == 400, response.text
    validate_response(response)
    error = response.json()["error"]
    assert error["param"] == param
    assert error["request_id"] == response.headers["x-request-id"]
    return str(error["message"])


def _no_internal_errors(emulator: Emulator) -> None:
    outcomes = [entry["outcome"] for entry in emulator.requests()]
    assert "error:internal_error" not in outcomes, outcomes


# Case 1: numbers Python's int() refuses, and JSON nested past the recursion limit.


@pytest.mark.parametrize("value", ["²", "+-5", "9" * 5000, "٣", "1_0", "0x5", ""])
@pytest.mark.parametrize("field", ["duration", "fps"])
def test_multipart_integers_int_refuses_are_400(emulator: Emulator, field: str, value: str) -> None:
    """Multipart integers that str.isdigit() accepts but int() refuses (or reads oddly) are a 400 naming the field."""
    fields = {"model": "p-video", "resolution": "360p", field: value}
    response = _generate(emulator, data=fields, files={"unused": ("a.txt", b"x", "text/plain")})
    message = _assert_400(response, field)
    assert len(message) < 300  # a 5,000-digit number is not echoed back whole
    _no_internal_errors(emulator)


def test_multipart_integers_keep_their_ascii_forms(emulator: Emulator) -> None:
    """Signs, surrounding spaces and leading zeros still read as the number they spell."""
    fields = {**{k: str(v) for k, v in TINY.items()}, "duration": " +1 ", "fps": "0002"}
    response = _generate(emulator, data=fields, files={"unused": ("a.txt", b"x", "text/plain")})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"a":' * 100_000, b'{"model": "p-video", "x": ' + b"[" * 100 + b"]" * 100 + b"}"],
    ids=["arrays", "objects", "deep-but-parseable"],
)
def test_json_nesting_bombs_are_400_malformed(emulator: Emulator, body: bytes) -> None:
    """JSON nested past a sane depth is a 400 with no field named, not a RecursionError."""
    response = _generate(emulator, content=body, headers={"Content-Type": "application/json"})
    message = _assert_400(response, None)
    assert response.json()["error"]["code"] == "invalid_json"
    assert "deep" in message
    _no_internal_errors(emulator)
    assert httpx.get(f"{emulator.origin}/_emulator/journal").status_code == 200


@pytest.mark.parametrize("field", ["duration", "fps"])
@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 5000, "1e400", "-1e400", "1.5", "NaN"])
def test_json_numbers_out_of_any_range_name_the_field(emulator: Emulator, field: str, number: str) -> None:
    """A 5,000-digit JSON integer or a float (even one past float's range) is a 400 naming its field."""
    body = b'{"model": "p-video", "' + field.encode() + b'": ' + number.encode() + b"}"
    response = _generate(emulator, content=body, headers={"Content-Type": "application/json"})
    message = _assert_400(response, field)
    assert len(message) < 300
    _no_internal_errors(emulator)
