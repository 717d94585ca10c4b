"""videos.generate against the emulator: what is sent, what is refused before sending, what comes back."""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qubrid_video
from qubrid_video import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BackendUnavailableError,
    BadRequestError,
    GenerationTimeoutError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidParameterError,
    ModelNotFoundError,
    ParameterTypeError,
    PermissionDeniedError,
    QubridError,
    RateLimitError,
    ResponseValidationError,
)
from qubrid_video_emulator import Emulator, EmulatorConfig, KeyPolicy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..clients import FLAVOURS, TINY, Either
from ..conftest import serve_app
from ..media import png, wav


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    """Each test that asks for it runs against Qubrid, then AsyncQubrid."""
    return str(request.param)


@pytest.fixture
def client(flavour: str, emulator: Emulator) -> Iterator[Either]:
    """A client of either flavour pointed at the emulator."""
    with Either(flavour, api_key=emulator.api_key, base_url=emulator.base_url) as either:
        yield either


def test_every_spec_field_is_a_parameter(spec: dict[str, Any]) -> None:
    """Each property of both request schemas is a parameter of videos.generate (files as image/audio)."""
    import inspect

    schemas = spec["components"]["schemas"]
    fields = set(schemas["VideoGenerationRequest"]["properties"]) | set(
        schemas["VideoGenerationMultipartRequest"]["properties"]
    )
    expected = {name.removesuffix("_file") for name in fields}
    for generate in (qubrid_video.Videos.generate, qubrid_video.AsyncVideos.generate):
        parameters = set(inspect.signature(generate).parameters) - {"self", "timeout", "extra_headers"}
        assert parameters == expected


def test_urls_travel_as_json(client: Either, emulator: Emulator) -> None:
    """With only URLs, the body is JSON with every field typed as the spec says."""
    client.generate(**TINY, prompt="p", image="https://example.com/none.png", save_audio=False,
                    prompt_upsampling=False)  # fmt: skip
    (entry,) = emulator.requests()
    assert entry.content_type == "application/json"
    assert entry.fields["image"] == "https://example.com/none.png"
    assert entry.fields["duration"] == 1
    assert entry.fields["draft"] is True
    assert entry.fields["save_audio"] is False


def test_local_media_travel_as_multipart_with_spec_encoding(client: Either, emulator: Emulator, tmp_path: Path) -> None:
    """A local file goes as image_file; a URL rides along; numbers and flags are '5' and 'true'."""
    picture = tmp_path / "cat.png"
    picture.write_bytes(png())
    client.generate(**TINY, image=picture, audio="https://example.com/a.mp3", save_audio=False)
    (entry,) = emulator.requests()
    assert entry.content_type.startswith("multipart/form-data; boundary=")
    expected = {"model": "p-video", "duration": "1", "aspect_ratio": "1:1",
                "audio": "https://example.com/a.mp3", "draft": "true", "save_audio": "false"}  # fmt: skip
    assert entry.fields == expected
    assert entry.files["image_file"].sha256 == hashlib.sha256(picture.read_bytes()).hexdigest()
    assert entry.files["image_file"].filename == "cat.png"


@pytest.mark.parametrize("form", ["path-str", "pathlike", "bytes", "file", "tuple", "tuple-file"])
def test_every_local_form_uploads_the_same_bytes(client: Either, emulator: Emulator, tmp_path: Path, form: str) -> None:
    """Paths, bytes, binary files and (name, content, type) tuples all upload the exact bytes."""
    data = png((1, 2, 3))
    path = tmp_path / "in.png"
    path.write_bytes(data)
    with path.open("rb") as handle:
        value = {"path-str": str(path), "pathlike": path, "bytes": data, "file": handle,
                 "tuple": ("x.png", data, "image/png"), "tuple-file": ("x.png", handle, "image/png")}[form]  # fmt: skip
        client.generate(**TINY, image=value)
    upload = emulator.requests()[0].files["image_file"]
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.content_type == "image/png"


def test_mime_is_sniffed_then_guessed(client: Either, emulator: Emulator, tmp_path: Path) -> None:
    """The first bytes decide the type (a PNG named .jpg is image/png); the extension is the fallback."""
    misnamed = tmp_path / "photo.jpg"
    misnamed.write_bytes(png())
    client.generate(**TINY, image=misnamed, audio=("voice.wav", wav(0.5), "audio/wav"))
    assert emulator.requests()[0].files["image_file"].content_type == "image/png"
    unknown = tmp_path / "clip.mp3"
    unknown.write_bytes(b"\x00\x01 not a known signature")
    with pytest.raises(BadRequestError):
        client.generate(**TINY, audio=unknown)
    assert emulator.requests()[1].files["audio_file"].content_type == "audio/mpeg"


def _bad_arguments(tmp_path: Path, text_file: Any) -> list[tuple[dict[str, Any], type[Exception], str]]:
    return [
        ({"model": ""}, InvalidParameterError, "model"),
        ({"model": 5}, ParameterTypeError, "model"),
        ({"duration": 0}, InvalidParameterError, "duration"),
        ({"duration": -3}, InvalidParameterError, "duration"),
        ({"duration": 2.5}, ParameterTypeError, "duration"),
        ({"duration": True}, ParameterTypeError, "duration"),
        ({"fps": "24"}, ParameterTypeError, "fps"),
        ({"draft": "yes"}, ParameterTypeError, "draft"),
        ({"prompt": b"bytes"}, ParameterTypeError, "prompt"),
        ({"image": "ftp://example.com/a.png"}, InvalidParameterError, "image"),
        ({"image": "file:///etc/passwd"}, InvalidParameterError, "image"),
        ({"image": str(tmp_path / "missing.png")}, InvalidParameterError, "image"),
        ({"image": tmp_path}, InvalidParameterError, "image"),
        ({"audio": text_file}, ParameterTypeError, "audio"),
        ({"audio": io.StringIO("text")}, ParameterTypeError, "audio"),
        ({"image": 42}, ParameterTypeError, "image"),
        ({"image": ("only-two", b"x")}, ParameterTypeError, "image"),
        ({"timeout": -1}, InvalidParameterError, "timeout"),
        ({"extra_headers": {"X-A": "b\r\nInjected: 1"}}, InvalidParameterError, "extra_headers"),
    ]


def test_bad_input_is_refused_before_sending(client: Either, emulator: Emulator, tmp_path: Path) -> None:
    """Each bad argument raises an error naming the parameter and saying what is allowed; nothing is sent."""
    with (tmp_path / "t.txt").open("w") as text_file:
        for override, error, param in _bad_arguments(tmp_path, text_file):
            with pytest.raises(error) as caught:
                client.generate(**{**TINY, **override})
            assert caught.value.param == param, override  # type: ignore[attr-defined]
            assert param in str(caught.value)
    assert emulator.requests() == []


def test_unreadable_file_is_refused(client: Either, emulator: Emulator, tmp_path: Path) -> None:
    """A path that exists but cannot be opened (a socket; unreadable even for root) is refused by name."""
    import socket

    path = tmp_path / "image.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InvalidParameterError, match="cannot read") as caught:
            client.generate(**TINY, image=path)
    assert caught.value.param == "image"
    assert emulator.requests() == []


# Errors, each from a real answer.


def _generate(flavour: str, emulator: Emulator, key: str | None = None, **overrides: Any) -> Any:
    with Either(flavour, api_key=key or emulator.api_key, base_url=emulator.base_url, max_retries=0) as client:
        return client.generate(**{**TINY, **overrides})


@pytest.mark.parametrize(
    ("setup", "overrides", "error", "code"),
    [
        (None, {"resolution": "9k"}, BadRequestError, "invalid_request"),
        (None, {"model": "p-video-ultra"}, ModelNotFoundError, "model_not_found"),
        ("500", {}, InternalServerError, "internal_error"),
        ("502", {}, BackendUnavailableError, "backend_unavailable"),
        ("504", {}, GenerationTimeoutError, "backend_error"),
        ("429", {}, RateLimitError, "rate_limit_exceeded"),
    ],
)
def test_status_errors(
    flavour: str, emulator: Emulator, setup: str | None, overrides: dict[str, Any], error: type, code: str
) -> None:
    """Each documented status raises its own class, carrying the body's fields and one helpful line."""
    if setup:
        emulator.inject(setup)
    with pytest.raises(error) as caught:
        _generate(flavour, emulator, **overrides)
    err = caught.value
    assert isinstance(err, APIStatusError)
    assert err.code == code
    assert err.request_id == emulator.requests()[-1].request_id
    assert err.request_id in str(err)
    assert str(err).startswith(f"HTTP {err.status_code} {code} ")
    assert "\n" not in str(err)
    assert err.may_have_generated is (err.status_code in (500, 504))


def test_auth_credit_and_permission_errors(flavour: str) -> None:
    """401, 402 and 403 from real answers (403 even with the spec's odd code insufficient_quota)."""
    config = EmulatorConfig(keys={"sk-ok": KeyPolicy(credits=0, models={"p-video"})}, models={"p-video", "p-pro"})
    with Emulator(config) as emulator:
        with pytest.raises(AuthenticationError) as auth:
            _generate(flavour, emulator, key="sk-wrong")
        assert auth.value.code == "invalid_api_key"
        with pytest.raises(InsufficientCreditsError):
            _generate(flavour, emulator, key="sk-ok")
        with pytest.raises(PermissionDeniedError) as denied:
            _generate(flavour, emulator, key="sk-ok", model="p-pro")
        assert denied.value.code == "insufficient_quota"
        assert denied.value.param == "model"


def test_rate_limit_error_carries_retry_after(flavour: str, emulator: Emulator) -> None:
    """With retries off, a 429 surfaces as RateLimitError with the server's Retry-After."""
    emulator.inject("429", retry_after=7)
    with pytest.raises(RateLimitError) as caught:
        _generate(flavour, emulator)
    assert caught.value.retry_after == 7


def test_proxy_html_page_still_maps_by_status(flavour: str, emulator: Emulator) -> None:
    """An HTML 502 from a proxy is a BackendUnavailableError carrying the page's text."""
    emulator.inject("html")
    with pytest.raises(BackendUnavailableError) as caught:
        _generate(flavour, emulator)
    assert isinstance(caught.value.body, str)
    assert "502 Bad Gateway" in caught.value.body
    assert caught.value.code is None


def test_truncated_json_is_a_response_validation_error(flavour: str, emulator: Emulator) -> None:
    """A 200 whose JSON is cut short raises ResponseValidationError, saying it may have been billed."""
    emulator.inject("malformed_json")
    with pytest.raises(ResponseValidationError, match="may have run and been billed") as caught:
        _generate(flavour, emulator)
    assert caught.value.may_have_generated
    assert emulator.generations == 1


def test_dropped_connection_is_a_connection_error(flavour: str, emulator: Emulator) -> None:
    """No answer after sending: APIConnectionError that says the generation may have run."""
    emulator.inject("drop_before")
    with pytest.raises(APIConnectionError, match="lost after the request was sent") as caught:
        _generate(flavour, emulator)
    assert caught.value.may_have_generated


def test_unreachable_api_is_a_safe_connection_error(flavour: str) -> None:
    """Nothing listening: APIConnectionError that says nothing can have been billed."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        Either(flavour, api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0) as client,
        pytest.raises(APIConnectionError, match="could not connect") as caught,
    ):
        client.generate(**TINY)
    assert not caught.value.may_have_generated
    assert not isinstance(caught.value, APITimeoutError)


def test_slow_answer_hits_the_call_timeout(flavour: str, emulator: Emulator) -> None:
    """A per-call timeout shorter than the answer raises APITimeoutError, a TimeoutError too."""
    emulator.inject("slow", delay=5)
    with (
        Either(flavour, api_key=emulator.api_key, base_url=emulator.base_url) as client,
        pytest.raises(APITimeoutError) as caught,
    ):
        client.generate(**TINY, timeout=0.5)
    assert isinstance(caught.value, TimeoutError)
    assert len(emulator.requests()) <= 1


def test_request_id_falls_back_to_the_header(flavour: str) -> None:
    """A body without request_id: the x-request-id header fills it."""

    async def answer(request: Request) -> Response:
        return JSONResponse({"error": {"message": "nope", "type": "t", "code": "c"}}, 400,
                            headers={"x-request-id": "req-from-header"})  # fmt: skip

    app = Starlette(routes=[Route("/v1/videos/generations", answer, methods=["POST"])])
    with (
        serve_app(app) as origin,
        Either(flavour, api_key="k", base_url=f"{origin}/v1") as client,
        pytest.raises(BadRequestError) as caught,
    ):
        client.generate(**TINY)
    assert caught.value.request_id == "req-from-header"
    assert caught.value.message == "nope"


@pytest.mark.parametrize("status", [418, 503])
def test_undocumented_status_is_a_plain_status_error(flavour: str, status: int) -> None:
    """A status the spec does not document raises APIStatusError itself."""

    async def answer(request: Request) -> Response:
        return Response(b"", status_code=status)

    app = Starlette(routes=[Route("/v1/videos/generations", answer, methods=["POST"])])
    with (
        serve_app(app) as origin,
        Either(flavour, api_key="k", base_url=f"{origin}/v1", max_retries=0) as client,
        pytest.raises(APIStatusError) as caught,
    ):
        client.generate(**TINY)
    assert type(caught.value) is APIStatusError
    assert caught.value.status_code == status


def test_every_error_class_pickles(flavour: str, emulator: Emulator) -> None:
    """Errors from real answers survive pickling with their fields, and never hold the key."""
    errors: list[QubridError] = []
    for kind in ("500", "502", "504", "429", "html", "malformed_json", "drop_before"):
        emulator.inject(kind)
        with pytest.raises(QubridError) as caught:
            _generate(flavour, emulator)
        errors.append(caught.value)
    errors.append(InvalidParameterError("duration", "must be positive"))
    errors.append(qubrid_video.DestinationExistsError("/tmp/x.mp4"))
    errors.append(qubrid_video.DownloadError("cut", url="http://h/v.mp4"))
    for error in errors:
        data = pickle.dumps(error)
        assert emulator.api_key.encode() not in data
        copy = pickle.loads(data)
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert {k: v for k, v in vars(copy).items() if k != "response"} == {
            k: v for k, v in vars(error).items() if k != "response"
        }
