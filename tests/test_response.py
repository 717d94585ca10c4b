"""The raw answers the SDK hands back (``video.response``, ``err.response``) are readable and keyless."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest
import qubrid_video as qv
from qubrid_video_emulator import Emulator

from .hostile import hostile, raw_answer

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "fps": 2, "resolution": "360p"}
CLIENTS = ["sync", "async"]


def _generate(flavour: str, base_url: str, api_key: str, **overrides: Any) -> qv.Video | qv.AsyncVideo:
    """One generate() call through the sync or the async client, with retries off."""
    arguments = {**TINY, **overrides}
    if flavour == "sync":
        with qv.Qubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            return client.videos.generate(**arguments)

    async def call() -> qv.AsyncVideo:
        async with qv.AsyncQubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            return await client.videos.generate(**arguments)

    return asyncio.run(call())


def _status_error(flavour: str, base_url: str, api_key: str, **overrides: Any) -> qv.APIStatusError:
    with pytest.raises(qv.APIStatusError) as caught:
        _generate(flavour, base_url, api_key, **overrides)
    return caught.value


def _assert_readable(response: httpx.Response | None, body: dict[str, Any]) -> None:
    assert response is not None
    assert response.json() == body
    assert json.loads(response.text) == body
    assert json.loads(response.content) == body
    assert response.request.headers["authorization"] == "Bearer [redacted]"


@pytest.mark.parametrize("flavour", CLIENTS)
def test_video_response_is_readable(emulator: Emulator, flavour: str) -> None:
    """``video.response.json()`` is the 200's body; its request's key is redacted."""
    video = _generate(flavour, emulator.base_url, emulator.api_key)
    assert video.response is not None
    body = video.response.json()
    assert body["data"][0]["url"] == video.url
    _assert_readable(video.response, body)
    assert emulator.api_key not in repr(vars(video.response.request.headers))


@pytest.mark.parametrize("flavour", CLIENTS)
@pytest.mark.parametrize(("fault", "overrides", "code"), [("500", {}, "internal_error"),
                                                          (None, {"model": "nope"}, "model_not_found")])  # fmt: skip
def test_error_response_is_readable(
    emulator: Emulator, flavour: str, fault: str | None, overrides: dict[str, Any], code: str
) -> None:
    """``err.response.json()`` is the error's body, the same as ``err.body``; its request's key is redacted."""
    if fault:
        emulator.inject(fault)
    error = _status_error(flavour, emulator.base_url, emulator.api_key, **overrides)
    assert isinstance(error.body, dict)
    assert error.body["error"]["code"] == code
    _assert_readable(error.response, error.body)


@pytest.mark.parametrize("flavour", CLIENTS)
def test_compressed_answers_are_readable_once_decoded(flavour: str) -> None:
    """A gzip answer: ``.json()`` gives the decoded body, and the headers still say what came."""
    body = {"created": 1, "data": [{"url": "https://cdn.example/v.mp4"}]}
    wire = raw_answer("200 OK", gzip.compress(json.dumps(body).encode()),
                      "Content-Type: application/json", "Content-Encoding: gzip")  # fmt: skip
    with hostile("canned", answer=wire) as (base_url, _):
        video = _generate(flavour, base_url, "sk-test")
    _assert_readable(video.response, body)
    assert video.response is not None
    assert video.response.headers["content-encoding"] == "gzip"
    error = {"error": {"message": "no", "type": "invalid_request_error", "code": "bad", "param": None}}
    wire = raw_answer("400 Bad Request", gzip.compress(json.dumps(error).encode()),
                      "Content-Type: application/json", "Content-Encoding: gzip")  # fmt: skip
    with hostile("canned", answer=wire) as (base_url, _):
        _assert_readable(_status_error(flavour, base_url, "sk-test").response, error)


@pytest.mark.parametrize("flavour", CLIENTS)
def test_oversized_answers_keep_only_the_capped_body(flavour: str) -> None:
    """An answer beyond MAX_BODY_BYTES: the response holds exactly the capped part the SDK read."""
    from qubrid_video._response import MAX_BODY_BYTES

    page = b"<p>" + b"x" * (MAX_BODY_BYTES + 1000)
    with hostile("canned", answer=raw_answer("502 Bad Gateway", page, "Content-Type: text/html")) as (base_url, _):
        error = _status_error(flavour, base_url, "sk-test")
    assert error.response is not None
    assert error.response.content == page[:MAX_BODY_BYTES]
