"""Answers: what the SDK hands back is readable and keyless, and any body becomes a video or a documented error."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import pickle
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import qubrid_video as qv
from hypothesis import HealthCheck, given, settings
from qubrid_video_emulator import Emulator

from ..hostile import calls, hostile, raw_answer
from ..strategies import ODD_CREATED, ODD_DATA

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}
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


NESTING_BOMB = b"[" * 100_000
ODD = "req-odd"


def _json_answer(status: str, body: bytes) -> bytes:
    return raw_answer(status, body, "Content-Type: application/json", f"x-request-id: {ODD}")


@pytest.mark.parametrize("flavour", CLIENTS)
def test_nesting_bomb_in_a_200_is_a_response_validation_error(flavour: str) -> None:
    """``[`` x 100,000 in a 200: ResponseValidationError (it may have generated), the body kept as text."""
    with hostile("canned", answer=_json_answer("200 OK", NESTING_BOMB)) as (base_url, recorder):
        ((error, _),) = calls(flavour, base_url, max_retries=0)
    assert isinstance(error, qv.ResponseValidationError)
    assert error.may_have_generated is True
    assert error.request_id == ODD
    assert error.body == NESTING_BOMB.decode()
    assert pickle.loads(pickle.dumps(error)).body == error.body
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("flavour", CLIENTS)
@pytest.mark.parametrize(("status", "error_class"), [("400 Bad Request", qv.BadRequestError),
                                                     ("500 Internal Server Error", qv.InternalServerError),
                                                     ("502 Bad Gateway", qv.BackendUnavailableError)])  # fmt: skip
def test_nesting_bomb_in_an_error_keeps_its_status_class(flavour: str, status: str, error_class: type) -> None:
    """``[`` x 100,000 in an error answer: the status's own class, the body kept as text."""
    with hostile("canned", answer=_json_answer(status, NESTING_BOMB)) as (base_url, _):
        ((error, _),) = calls(flavour, base_url, max_retries=0)
    assert type(error) is error_class
    assert error.body == NESTING_BOMB.decode()
    assert error.request_id == ODD
    assert pickle.loads(pickle.dumps(error)).status_code == error.status_code


@pytest.mark.parametrize("flavour", CLIENTS)
def test_nesting_bomb_under_strict_validation_is_contract_drift(flavour: str) -> None:
    """With validate_responses="strict", a nesting bomb is reported as drift ("not valid JSON")."""
    with hostile("canned", answer=_json_answer("200 OK", NESTING_BOMB)) as (base_url, _):
        ((error, _),) = calls(flavour, base_url, max_retries=0, validate_responses="strict")
    assert isinstance(error, qv.ContractDriftError)
    assert "body is not valid JSON" in error.mismatches


@pytest.mark.parametrize("flavour", CLIENTS)
@pytest.mark.parametrize("created", [b"100000000000000000000", b"-100000000000000", b"1" + b"0" * 400])
def test_created_beyond_any_date_still_gives_the_video(flavour: str, created: bytes) -> None:
    """A ``created`` no datetime can hold (1e20, -1e14 as integers): the video, with ``created`` None."""
    body = b'{"created": ' + created + b', "data": [{"url": "https://cdn.example/v.mp4"}]}'
    with hostile("canned", answer=_json_answer("200 OK", body)) as (base_url, _):
        ((video, _),) = calls(flavour, base_url, max_retries=0)
    assert isinstance(video, qv.Video | qv.AsyncVideo)
    assert video.url == "https://cdn.example/v.mp4"
    assert video.created is None
    assert video.request_id == ODD


class _Caller:
    """One client kept across hypothesis examples (an async one on its own event loop)."""

    def __init__(self, flavour: str, base_url: str) -> None:
        self.loop = asyncio.new_event_loop() if flavour == "async" else None
        options: dict[str, Any] = {"api_key": "sk-test", "base_url": base_url, "max_retries": 0}
        if self.loop is None:
            self.client: Any = qv.Qubrid(**options)
        else:
            self.client = self.loop.run_until_complete(self._make_async(options))

    @staticmethod
    async def _make_async(options: dict[str, Any]) -> qv.AsyncQubrid:
        return qv.AsyncQubrid(**options)

    def __call__(self) -> Any:
        try:
            if self.loop is None:
                return self.client.videos.generate(model="p-video")
            return self.loop.run_until_complete(self.client.videos.generate(model="p-video"))
        except qv.QubridError as error:
            return error

    def close(self) -> None:
        if self.loop is None:
            self.client.close()
        else:
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()


def _expected_time(created: object) -> dt.datetime | None:
    if not isinstance(created, int) or isinstance(created, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(created, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


@pytest.mark.parametrize("flavour", CLIENTS)
def test_odd_created_and_data_give_a_video_or_a_validation_error(flavour: str) -> None:
    """Whatever JSON `created` and `data` hold, a 200 gives a Video or ResponseValidationError, nothing else."""
    with hostile("canned") as (base_url, recorder):
        generate = _Caller(flavour, base_url)
        try:

            @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(created=ODD_CREATED, data=ODD_DATA)
            def check(created: object, data: object) -> None:
                recorder.answer = _json_answer("200 OK", json.dumps({"created": created, "data": data}).encode())
                outcome = generate()
                if isinstance(outcome, qv.QubridError):
                    assert isinstance(outcome, qv.ResponseValidationError), repr(outcome)
                    assert outcome.may_have_generated is True
                    assert outcome.request_id == ODD
                    assert pickle.loads(pickle.dumps(outcome)).message == outcome.message
                    return
                assert isinstance(outcome, qv.Video | qv.AsyncVideo)
                assert urlsplit(outcome.url).scheme in ("http", "https")
                assert outcome.created == _expected_time(created)
                assert outcome.request_id == ODD

            check()
        finally:
            generate.close()
