"""The generate() attempt cycle, without I/O: what a Call sends, and what each outcome makes of it.

Both clients run this same object, so these decisions are tested once for both; the behaviour
tests (test_generate, test_retry) run each client against real servers.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import httpx
import pytest
import qubrid_video as qv
from qubrid_video._call import Call, Wait
from qubrid_video._config import resolve_options
from qubrid_video._request import GenerateParams, prepare
from qubrid_video._video import GENERATIONS

BASE = "https://api.example/v1"
OK = b'{"created": 1710000000, "data": [{"url": "https://cdn.example/v.mp4"}]}'


class Wire:
    """What an attempt saw on the wire, as the SDK's pools report it."""

    def __init__(
        self, *, reused: bool = False, received: int = 0, since: float = math.inf, unsent: bool = False, handed: int = 0
    ):
        self.reused, self.received, self._since, self.unsent, self.handed = reused, received, since, unsent, handed

    def since_write(self) -> float:
        return self._since


def _call(timeout: float = 900, **options: Any) -> Call[Any]:
    settings = {"api_key": "sk-call", "base_url": BASE, "timeout": timeout, "max_retries": 2, "default_headers": None,
                "allow_insecure_http": False, "retry_possibly_billed": False, **options}  # fmt: skip
    resolved = resolve_options(**settings)
    return Call(GENERATIONS, prepare(GenerateParams(model="p-video")), resolved.timeout, resolved)


def _answer(status: int, body: bytes = b"{}", **headers: str) -> tuple[httpx.Response, bytes]:
    request = httpx.Request("POST", BASE + "/videos/generations", headers={"Authorization": "Bearer sk-call"})
    return httpx.Response(status, headers={"x-request-id": "req-1", **headers}, request=request), body


def test_next_request_is_the_endpoint_with_every_header() -> None:
    """POST to the endpoint under the base URL; the key, the encodings, the call's key; timeouts within the deadline."""
    call = _call(timeout=30, default_headers={"X-Team": "video"})
    request = call.next_request()
    assert (request["method"], request["url"]) == ("POST", BASE + "/videos/generations")
    assert request["headers"]["Authorization"] == "Bearer sk-call"
    assert request["headers"]["X-Team"] == "video"
    assert request["headers"]["Idempotency-Key"] == call.request.idempotency_key
    assert request["json"]["model"] == "p-video"
    # The timeouts ride in httpx's `timeout` extension, which build_request keeps as given.
    with httpx.Client() as http:
        timeouts = http.build_request(**request).extensions["timeout"]
    assert 29 < timeouts["read"] <= 30
    assert 29 < timeouts["pool"] <= 30
    assert timeouts["connect"] <= 10


def test_without_default_headers_the_call_sends_the_sdk_headers_and_its_key() -> None:
    """The common case (no client-wide headers, no extra_headers) sends exactly these three headers."""
    call = _call()
    headers = call.next_request()["headers"]
    assert headers == {"Accept-Encoding": "gzip, deflate", "Authorization": "Bearer sk-call",
                       "Idempotency-Key": call.request.idempotency_key}  # fmt: skip


def test_a_200_gives_the_video_fields_and_blanks_the_key() -> None:
    """The result is the fields of a Video; the answer's request no longer holds the key."""
    response, body = _answer(200, OK)
    fields = _call().answered(response, body)
    assert not isinstance(fields, Wait)
    assert fields["url"] == "https://cdn.example/v.mp4"
    assert fields["request_id"] == "req-1"
    assert fields["response"].json()["data"][0]["url"] == fields["url"]
    assert "sk-call" not in str(response.request.headers.raw)


def test_safe_failures_wait_then_raise_once_retries_are_spent() -> None:
    """502 twice: two waits, counted; the third raises the status error."""
    call = _call()
    assert isinstance(call.answered(*_answer(502)), Wait)
    assert isinstance(call.answered(*_answer(502)), Wait)
    assert call.retries == 2
    with pytest.raises(qv.BackendUnavailableError):
        call.answered(*_answer(502))


def test_retry_after_is_read_once_for_the_wait_and_the_error() -> None:
    """A 429's Retry-After is the wait; with no retries left, the error carries the same value."""
    assert _call().answered(*_answer(429, **{"retry-after": "0.25"})) == Wait(0.25)
    with pytest.raises(qv.RateLimitError) as caught:
        _call(max_retries=0).answered(*_answer(429, **{"retry-after": "7"}))
    assert caught.value.retry_after == 7
    assert caught.value.may_have_generated is False


@pytest.mark.parametrize(("status", "error"), [(500, qv.InternalServerError), (504, qv.GenerationTimeoutError)])
def test_possibly_billed_answers_raise_unless_opted_in(status: int, error: type[Exception]) -> None:
    """500 and 504 are raised at once, saying they may have been billed; retried only on opt-in."""
    with pytest.raises(error) as caught:
        _call().answered(*_answer(status))
    assert caught.value.may_have_generated  # type: ignore[attr-defined]
    assert isinstance(_call(retry_possibly_billed=True).answered(*_answer(status)), Wait)


def test_an_unusable_200_is_a_validation_error() -> None:
    """A 200 without a usable URL may have been billed: raised, not retried by default."""
    with pytest.raises(qv.ResponseValidationError):
        _call().answered(*_answer(200, b'{"data": []}'))


def test_connect_failures_wait_and_lost_connections_raise() -> None:
    """A failure to connect cannot have generated: retried. A connection lost after sending may have."""
    call = _call()
    assert isinstance(call.unanswered(httpx.ConnectError("refused"), Wire()), Wait)  # type: ignore[arg-type]
    assert call.retries == 1
    with pytest.raises(qv.APIConnectionError, match="lost after the request was sent") as caught:
        call.unanswered(httpx.ReadError("reset"), Wire())  # type: ignore[arg-type]
    assert caught.value.may_have_generated


def test_a_body_surely_unsent_is_reported_as_not_generated() -> None:
    """When the pool counted fewer bytes than the body holds, a lost connection cannot have generated."""
    with pytest.raises(qv.APIConnectionError) as caught:
        _call().unanswered(httpx.ReadError("reset"), Wire(unsent=True, handed=100))  # type: ignore[arg-type]
    assert not caught.value.may_have_generated
    assert "lost before the whole request was sent" in str(caught.value)


def test_a_connection_closed_while_idle_is_resent_once_outside_the_budget() -> None:
    """A reused connection failing at once with nothing received: resent now, once, without a retry counted."""
    call = _call(max_retries=0)
    stale = Wire(reused=True, received=0, since=0.01)
    assert call.unanswered(httpx.RemoteProtocolError("closed"), stale) == Wait(0)  # type: ignore[arg-type]
    assert call.retries == 0
    with pytest.raises(qv.APIConnectionError):
        call.unanswered(httpx.RemoteProtocolError("closed"), stale)  # type: ignore[arg-type]


def test_the_deadline_turns_failures_into_timeouts() -> None:
    """Past the call's deadline nothing is retried, and the error says the deadline passed."""
    call = _call(timeout=0.05)
    time.sleep(0.06)
    assert call.next_request()["extensions"]["timeout"]["read"] <= 0.001
    with pytest.raises(qv.APITimeoutError, match="deadline passed"):
        call.unanswered(httpx.ConnectError("refused"), Wire())  # type: ignore[arg-type]


def test_each_attempt_is_logged_with_the_operation(caplog: pytest.LogCaptureFixture) -> None:
    """The log line names the endpoint, the attempt, the status and the call's Idempotency-Key, not the key."""
    call = _call()
    with caplog.at_level(logging.DEBUG, logger="qubrid_video"):
        call.answered(*_answer(502))
        call.answered(*_answer(200, OK))
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("POST /videos/generations attempt=1 status=502 request_id=req-1")
    assert lines[1].startswith("POST /videos/generations attempt=2 status=200")
    assert all(call.request.idempotency_key in line and "sk-call" not in line for line in lines)


def test_leaving_the_call_closes_its_files(tmp_path: Any) -> None:
    """The files a call opened for upload are closed when it ends, however it ends."""
    path = tmp_path / "in.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    options = resolve_options(api_key="k", base_url=BASE, timeout=None, max_retries=0, default_headers=None,
                              allow_insecure_http=False, retry_possibly_billed=False)  # fmt: skip
    call = Call(GENERATIONS, prepare(GenerateParams(model="p-video", image=path)), options.timeout, options)
    (upload,) = call.request.uploads
    with pytest.raises(qv.BadRequestError), call:
        call.answered(*_answer(400))
    assert upload.content.raw.closed  # type: ignore[union-attr]
