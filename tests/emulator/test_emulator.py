"""The emulator over real loopback HTTP: every documented status, every fault, idempotency, the journal."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from typing import Any

import attrs
import httpx
import pytest
from qubrid_video.contract import validate_response
from qubrid_video_emulator import (
    DownloadRecord,
    Emulator,
    EmulatorConfig,
    FaultKind,
    GenerationRecord,
    KeyPolicy,
    UploadRecord,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..conftest import serve_app
from ..media import png, wav

TINY = {"model": "p-video", "prompt": "A butterfly", "duration": 1, "aspect_ratio": "1:1", "draft": True}


def _post(emulator: Emulator, body: dict[str, Any] | None = None, *, key: str | None = "default", **kwargs: Any):
    headers = kwargs.pop("headers", {})
    if key is not None:
        headers["Authorization"] = f"Bearer {emulator.api_key if key == 'default' else key}"
    if body is not None:
        kwargs["json"] = body
    return httpx.post(f"{emulator.base_url}/videos/generations", headers=headers, timeout=60, **kwargs)


def _assert_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    """The answer has the status, conforms to the spec, and its request id matches the header."""
    assert response.status_code == status, response.text
    validate_response(response)
    error = response.json()["error"]
    assert error["code"] == code
    assert error["param"] == param
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def test_success_conforms_and_serves_a_video(emulator: Emulator) -> None:
    """A 200 matches the spec and its URL, on the separate files origin, serves an MP4."""
    response = _post(emulator, TINY)
    assert response.status_code == 200
    validate_response(response)
    assert response.headers["x-request-id"].startswith("req-qubrid-")
    url = response.json()["data"][0]["url"]
    assert url.startswith(emulator.files_origin + "/files/")
    assert emulator.files_origin != emulator.origin
    video = httpx.get(url)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    assert video.content[4:8] == b"ftyp"


def test_missing_and_invalid_keys(emulator: Emulator) -> None:
    """No key: 401 missing_api_key; a wrong key or a non-Bearer scheme: 401 invalid/missing."""
    _assert_error(_post(emulator, TINY, key=None), 401, "missing_api_key")
    _assert_error(_post(emulator, TINY, key="sk-wrong"), 401, "invalid_api_key")
    basic = _post(emulator, TINY, key=None, headers={"Authorization": "Basic abc"})
    _assert_error(basic, 401, "missing_api_key")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "no model"}, "model"),
        ({"model": 5}, "model"),
        ({"model": "p-video", "duration": "five"}, "duration"),
        ({"model": "p-video", "duration": 0}, "duration"),
        ({"model": "p-video", "fps": 500}, "fps"),
        ({"model": "p-video", "resolution": "8k"}, "resolution"),
        ({"model": "p-video", "aspect_ratio": "2:1"}, "aspect_ratio"),
        ({"model": "p-video", "image": "ftp://example.com/a.png"}, "image"),
        ({"model": "p-video", "draft": "maybe"}, "draft"),
    ],
)
def test_invalid_fields_name_the_param(emulator: Emulator, body: dict[str, Any], param: str) -> None:
    """Each invalid or missing field gets a 400 whose `param` names it and whose message says why."""
    error = _assert_error(_post(emulator, body), 400, "invalid_request", param)
    assert param in error["message"]


def test_unknown_model_is_404_naming_it(emulator: Emulator) -> None:
    """An unknown model: 404 model_not_found, param model, the name in the message."""
    error = _assert_error(_post(emulator, {"model": "p-video-ultra"}), 404, "model_not_found", "model")
    assert "p-video-ultra" in error["message"]


def test_credits_permissions_and_rate_limits() -> None:
    """Per-key credits (402 when spent), model permissions (403) and rate limits (429 + Retry-After)."""
    config = EmulatorConfig(
        keys={
            "sk-poor": KeyPolicy(credits=5),  # one TINY: 1 s of 720p draft at US$0.005, 5 credits
            "sk-narrow": KeyPolicy(models={"p-video"}),
            "sk-slow": KeyPolicy(rate_limit=2),
        },
        models={"p-video", "p-video-pro"},
    )
    with Emulator(config) as emulator:
        assert _post(emulator, TINY, key="sk-poor").status_code == 200
        _assert_error(_post(emulator, TINY, key="sk-poor"), 402, "insufficient_quota")
        assert emulator.state.credits("sk-poor") == 0
        # The spec's 403 example carries code insufficient_quota; the emulator answers as documented.
        _assert_error(
            _post(emulator, {**TINY, "model": "p-video-pro"}, key="sk-narrow"), 403, "insufficient_quota", "model"
        )
        for _ in range(2):
            assert _post(emulator, TINY, key="sk-slow").status_code == 200
        limited = _post(emulator, TINY, key="sk-slow")
        _assert_error(limited, 429, "rate_limit_exceeded")
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert int(limited.headers["retry-after-ms"]) == int(limited.headers["retry-after"]) * 1000


@pytest.mark.parametrize(
    ("kind", "code"), [("500", "internal_error"), ("502", "backend_unavailable"), ("504", "backend_error")]
)
def test_injected_server_errors_conform(emulator: Emulator, kind: str, code: str) -> None:
    """Injected 500/502/504 answer with the spec's error body for that status, then service resumes."""
    emulator.inject(kind)
    _assert_error(_post(emulator, TINY), int(kind), code)
    assert _post(emulator, TINY).status_code == 200
    assert emulator.requests()[0].outcome == f"fault:{kind}"


def test_injected_429_carries_retry_after(emulator: Emulator) -> None:
    """An injected 429 says when to come back, in seconds and milliseconds."""
    emulator.inject("429", retry_after=2.5)
    response = _post(emulator, TINY)
    _assert_error(response, 429, "rate_limit_exceeded")
    assert response.headers["retry-after"] == "2.5"
    assert response.headers["retry-after-ms"] == "2500"


def test_next_n_requests_then_normal(emulator: Emulator) -> None:
    """`count` faults the next N requests only."""
    emulator.inject("502", count=3)
    statuses = [_post(emulator, TINY).status_code for _ in range(4)]
    assert statuses == [502, 502, 502, 200]


def test_fault_fraction_is_reproducible() -> None:
    """A fault rate hits about that fraction of requests, the same ones for the same seed."""
    runs = []
    for _ in range(2):
        with Emulator() as emulator:
            emulator.set_fault_rate(0.5, ["500"], seed=7)
            runs.append([_post(emulator, TINY).status_code for _ in range(30)])
    assert runs[0] == runs[1]
    assert 5 <= runs[0].count(500) <= 25
    assert set(runs[0]) == {200, 500}


def test_slow_response(emulator: Emulator) -> None:
    """A slow fault delays the answer by its delay, then answers normally."""
    emulator.inject("slow", delay=0.4)
    started = time.monotonic()
    response = _post(emulator, TINY)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_drop_before_response(emulator: Emulator) -> None:
    """drop_before closes the connection without an answer and runs no generation."""
    emulator.inject("drop_before")
    with pytest.raises(httpx.RemoteProtocolError, match=r"without sending a response"):
        _post(emulator, TINY)
    assert emulator.generations == 0
    assert emulator.requests()[0].outcome == "fault:drop_before"


def test_drop_mid_response_after_generation(emulator: Emulator) -> None:
    """drop_mid cuts the answer after the generation ran (and was billed)."""
    emulator.inject("drop_mid")
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
        _post(emulator, TINY)
    assert emulator.generations == 1


def test_html_error_page_from_a_proxy(emulator: Emulator) -> None:
    """html answers 502 with an HTML page, as a proxy in front of the API would."""
    emulator.inject("html")
    response = _post(emulator, TINY)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


def test_malformed_json(emulator: Emulator) -> None:
    """malformed_json answers 200 with a truncated JSON body."""
    emulator.inject("malformed_json")
    response = _post(emulator, TINY)
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        response.json()


def test_drop_during_download_then_resume_with_range(emulator: Emulator) -> None:
    """drop_download cuts a video download; a Range request with If-Range fetches the rest intact."""
    url = _post(emulator, TINY).json()["data"][0]["url"]
    whole = httpx.get(url).content
    emulator.inject("drop_download", cut_at=0.3)
    received = bytearray()
    headers: dict[str, str] = {}

    def read_until_dropped() -> None:
        with httpx.stream("GET", url) as response:
            headers.update(response.headers)
            for chunk in response.iter_raw():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        read_until_dropped()
    etag = headers["etag"]
    assert 0 < len(received) < len(whole)
    rest = httpx.get(url, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{len(whole) - 1}/{len(whole)}"
    assert bytes(received) + rest.content == whole


def test_range_etag_and_head(emulator: Emulator) -> None:
    """Single ranges, suffix ranges, a stale If-Range (full body), unsatisfiable ranges (416), HEAD."""
    url = _post(emulator, TINY).json()["data"][0]["url"]
    whole = httpx.get(url)
    size = len(whole.content)
    assert httpx.get(url, headers={"Range": "bytes=0-9"}).content == whole.content[:10]
    assert httpx.get(url, headers={"Range": "bytes=-5"}).content == whole.content[-5:]
    stale = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == whole.content
    unsatisfiable = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    head = httpx.head(url)
    assert head.headers["content-length"] == str(size)
    assert head.headers["etag"] == whole.headers["etag"]
    assert httpx.get(f"{emulator.files_origin}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_one_generation_per_idempotency_key(emulator: Emulator) -> None:
    """A repeat of an Idempotency-Key replays the first result; a concurrent duplicate waits for it."""
    headers = {"Idempotency-Key": "idem-1"}
    first = _post(emulator, TINY, headers=dict(headers))
    second = _post(emulator, TINY, headers=dict(headers))
    assert first.json() == second.json()
    assert emulator.generations == 1
    assert [r.outcome for r in emulator.requests()] == ["generated", "replayed"]

    async def twice() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            auth = {"Authorization": f"Bearer {emulator.api_key}", "Idempotency-Key": "idem-2"}
            body = {**TINY, "prompt": "concurrent", "duration": 2}
            url = f"{emulator.base_url}/videos/generations"
            return list(await asyncio.gather(*(client.post(url, json=body, headers=auth) for _ in range(5))))

    answers = asyncio.run(twice())
    assert len({a.text for a in answers}) == 1
    assert emulator.generations == 2
    reused = _post(emulator, {**TINY, "prompt": "other"}, headers={"Idempotency-Key": "idem-1"})
    _assert_error(reused, 400, "idempotency_key_reused")


def test_journal_records_what_was_received(emulator: Emulator) -> None:
    """The journal has content type, fields, upload digests and the Idempotency-Key, never the key."""
    image = png()
    response = _post(
        emulator,
        None,
        data={"model": "p-video", "duration": "1", "aspect_ratio": "1:1", "draft": "true"},
        files={"image_file": ("cat.png", image, "image/png")},
        headers={"Idempotency-Key": "abc"},
    )
    assert response.status_code == 200, response.text
    (entry,) = emulator.requests()
    assert entry.content_type.startswith("multipart/form-data; boundary=")
    assert entry.fields == {"model": "p-video", "duration": "1", "aspect_ratio": "1:1", "draft": "true"}
    assert entry.files["image_file"] == UploadRecord(
        sha256=hashlib.sha256(image).hexdigest(), size=len(image), filename="cat.png", content_type="image/png"
    )
    assert entry.idempotency_key == "abc"
    assert emulator.api_key not in repr(emulator.journal())
    assert emulator.api_key not in repr(emulator.requests())
    over_http = httpx.get(f"{emulator.origin}/_emulator/journal").json()
    assert over_http["requests"][0]["request_id"] == entry.request_id


def test_control_api_over_http(emulator: Emulator) -> None:
    """Faults and keys can be set over HTTP, and the journal cleared."""
    assert httpx.post(f"{emulator.origin}/_emulator/faults", json={"kind": "504", "count": 1}).json() == {"pending": 1}
    assert _post(emulator, TINY).status_code == 504
    assert httpx.post(f"{emulator.origin}/_emulator/keys", json={"key": "sk-new", "credits": 0}).status_code == 200
    _assert_error(_post(emulator, TINY, key="sk-new"), 402, "insufficient_quota")
    assert httpx.post(f"{emulator.origin}/_emulator/faults", json={"kind": "nonsense"}).status_code == 400
    httpx.post(f"{emulator.origin}/_emulator/faults", json={"rate": 1.0, "kinds": ["500"]})
    assert _post(emulator, TINY).status_code == 500
    httpx.delete(f"{emulator.origin}/_emulator/faults")
    assert _post(emulator, TINY).status_code == 200
    assert httpx.delete(f"{emulator.origin}/_emulator/journal").json() == {"requests": [], "downloads": []}


def test_bad_input_never_crashes() -> None:
    """Oversized, truncated, mistyped and garbage bodies each get a spec-conformant 400; serving goes on."""
    with Emulator(EmulatorConfig(max_body_bytes=100_000)) as emulator:
        auth = {"Authorization": f"Bearer {emulator.api_key}"}
        big = _post(emulator, None, data={"model": "p-video"}, files={"image_file": ("a.png", b"x" * 200_000)})
        _assert_error(big, 400, "request_too_large")
        boundary = "b0undary"
        truncated = f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\np-vid'.encode()
        cut = _post(
            emulator, None, content=truncated, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        _assert_error(cut, 400, "invalid_request")
        plain = _post(emulator, None, content=b"model=p-video", headers={"Content-Type": "text/plain"})
        _assert_error(plain, 400, "unsupported_content_type")
        garbage = _post(emulator, None, content=b"{\x00\xff", headers={"Content-Type": "application/json"})
        _assert_error(garbage, 400, "invalid_json")
        not_object = _post(emulator, None, content=b"[1, 2]", headers={"Content-Type": "application/json"})
        _assert_error(not_object, 400, "invalid_request")
        broken_image = _post(emulator, None, data={"model": "p-video"}, files={"image_file": ("a.png", b"not a png")})
        _assert_error(broken_image, 400, "invalid_request", "image_file")
        broken_audio = _post(emulator, None, data={"model": "p-video"}, files={"audio_file": ("a.mp3", b"ID3 no")})
        _assert_error(broken_audio, 400, "invalid_request", "audio_file")
        assert httpx.get(f"{emulator.origin}/_emulator/health", headers=auth).json()["status"] == "ok"
        assert _post(emulator, TINY).status_code == 200


def _media_server(routes: dict[str, bytes], *, delay: float = 0.0) -> Starlette:
    async def serve(request: Request) -> Response:
        await asyncio.sleep(delay)
        data = routes.get(request.path_params["name"])
        return Response(data, media_type="application/octet-stream") if data else Response(status_code=404)

    return Starlette(routes=[Route("/{name}", serve)])


def test_input_urls_are_fetched_on_loopback_with_caps() -> None:
    """Image/audio URLs on loopback are fetched (capped in size and time); a 404 or junk is a 400."""
    image, audio = png((10, 200, 10)), wav(1.0)
    app = _media_server({"cat.png": image, "a.wav": audio, "big.png": b"x" * 5000})
    with serve_app(app) as origin, Emulator(EmulatorConfig(fetch_max_bytes=4000 + len(image) + len(audio))) as emulator:
        ok = _post(emulator, {**TINY, "image": f"{origin}/cat.png", "audio": f"{origin}/a.wav"})
        assert ok.status_code == 200, ok.text
        _assert_error(_post(emulator, {**TINY, "image": f"{origin}/missing.png"}), 400, "invalid_request", "image")
        _assert_error(_post(emulator, {**TINY, "audio": f"{origin}/cat.png"}), 400, "invalid_request", "audio")
    with serve_app(app) as origin, Emulator(EmulatorConfig(fetch_max_bytes=1000)) as emulator:
        error = _assert_error(_post(emulator, {**TINY, "image": f"{origin}/big.png"}), 400, "invalid_request", "image")
        assert "larger than 1000 bytes" in error["message"]
    with (
        serve_app(_media_server({"cat.png": image}, delay=1)) as origin,
        Emulator(EmulatorConfig(fetch_timeout=0.2)) as emulator,
    ):
        error = _assert_error(_post(emulator, {**TINY, "image": f"{origin}/cat.png"}), 400, "invalid_request", "image")
        assert "Timeout" in error["message"]


def test_remote_urls_are_not_fetched_by_default(emulator: Emulator) -> None:
    """Offline by default: a non-loopback image URL is drawn as a label, not fetched, and still succeeds."""
    response = _post(emulator, {**TINY, "image": "https://example.com/input-image.jpg"})
    assert response.status_code == 200


def test_slow_download_trickles(emulator: Emulator) -> None:
    """slow_download delivers the whole file, spread over its delay."""
    url = _post(emulator, TINY).json()["data"][0]["url"]
    whole = httpx.get(url).content
    emulator.inject("slow_download", delay=0.5)
    started = time.monotonic()
    chunks = []
    with httpx.stream("GET", url) as response:
        chunks = list(response.iter_raw())
    assert b"".join(chunks) == whole
    assert len(chunks) > 10
    assert time.monotonic() - started >= 0.4


def test_a_render_deleted_behind_its_back_is_404(emulator: Emulator) -> None:
    """A video file removed from the emulator's folder is gone (404), not served as 0 bytes (an expired link)."""
    answer = httpx.post(f"{emulator.base_url}/videos/generations", json={"model": "p-video", "duration": 1},
                        headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=120)  # fmt: skip
    url = answer.json()["data"][0]["url"]
    assert httpx.get(url).status_code == 200
    assert emulator._store is not None
    for video in emulator._store.root.glob("*.mp4"):
        video.unlink()
    assert httpx.get(url).status_code == 404
    again = httpx.post(f"{emulator.base_url}/videos/generations", json={"model": "p-video", "duration": 1},
                       headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=120)  # fmt: skip
    assert httpx.get(again.json()["data"][0]["url"]).content[4:8] == b"ftyp"  # rendered again, not a dead link


GENERATION_KEYS = ["request_id", "time", "content_type", "idempotency_key", "authorization", "key", "fields", "files",
                   "fault", "status", "outcome", "generation_id", "answered"]  # fmt: skip
DOWNLOAD_KEYS = ["request_id", "time", "name", "authorization", "range", "if_range", "fault", "status"]


def test_journal_entries_are_typed_and_the_journal_plain_dicts(emulator: Emulator) -> None:
    """requests() and downloads() give frozen entries; journal() and GET /_emulator/journal, their plain dicts."""
    emulator.inject("drop_mid")
    image = png(size=(32, 32))
    form = {"model": "p-video", "prompt": "p" * 300, "duration": "1", "aspect_ratio": "1:1", "draft": "true"}
    headers = {"Idempotency-Key": "journal-1"}
    with pytest.raises(httpx.RemoteProtocolError):
        _post(emulator, None, data=form, files={"image_file": ("cat.png", image, "image/png")}, headers=headers)
    url = _post(emulator, None, data=form, files={"image_file": ("cat.png", image, "image/png")},
                headers=dict(headers)).json()["data"][0]["url"]  # fmt: skip
    _post(emulator, TINY, key=None)
    emulator.inject("slow_download", delay=0.1)
    name = url.rsplit("/", 1)[1]
    httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    httpx.get(url, headers={"Range": "bytes=0-9"})
    httpx.get(url.replace(name, "0" + name))

    first, replay, anonymous = emulator.requests()
    assert all(type(entry) is GenerationRecord for entry in (first, replay, anonymous))
    assert [list(entry) for entry in emulator.journal()["requests"]] == [GENERATION_KEYS] * 3
    assert first.fields == {**form, "prompt": "p" * 200}
    assert first.files == {
        "image_file": UploadRecord(sha256=hashlib.sha256(image).hexdigest(), size=len(image), filename="cat.png",
                                   content_type="image/png")
    }  # fmt: skip
    assert emulator.journal()["requests"][0]["files"] == {"image_file": attrs.asdict(first.files["image_file"])}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.status = 500  # type: ignore[misc]
    assert first.key == "key:" + hashlib.sha256(emulator.api_key.encode()).hexdigest()[:10]
    assert first.content_type.startswith("multipart/form-data; boundary=")
    assert first.time <= first.answered
    assert [(e.idempotency_key, e.authorization, e.fault, e.status, e.outcome, e.generation_id)
            for e in (first, replay, anonymous)] == [
        ("journal-1", True, "drop_mid", 200, "generated", "gen-1"),
        ("journal-1", True, None, 200, "replayed", "gen-1"),
        (None, False, None, 401, "error:missing_api_key", None),
    ]  # fmt: skip
    assert (anonymous.key, anonymous.fields["duration"], anonymous.files) == (None, 1, {})
    assert first.fault is FaultKind.DROP_MID
    assert type(first.as_dict()["fault"]) is str

    assert all(type(entry) is DownloadRecord for entry in emulator.downloads())
    assert [list(entry) for entry in emulator.journal()["downloads"]] == [DOWNLOAD_KEYS] * 3
    assert [(e.name, e.authorization, e.range, e.if_range, e.fault, e.status)
            for e in emulator.downloads()] == [
        (name, False, "bytes=0-9", '"stale"', "slow_download", 200),
        (name, False, "bytes=0-9", None, None, 206),
        ("0" + name, False, None, None, None, 404),
    ]  # fmt: skip
    assert type(emulator.journal()["downloads"][0]["fault"]) is str
    assert httpx.get(f"{emulator.origin}/_emulator/journal").json() == emulator.journal()
    as_dicts = {"requests": [e.as_dict() for e in emulator.requests()],
                "downloads": [e.as_dict() for e in emulator.downloads()]}  # fmt: skip
    assert emulator.journal() == as_dicts


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"credits": "500"}, "credits must be a whole number of credits, 0 or more, or None, not '500'"),
        ({"credits": -1}, "credits must be a whole number of credits, 0 or more, or None, not -1"),
        ({"credits": 2.5}, "credits must be a whole number of credits, 0 or more, or None, not 2.5"),
        ({"rate_limit": 0}, "rate_limit must be a whole number of requests per minute, 1 or more, or None, not 0"),
        (
            {"rate_limit": True},
            "rate_limit must be a whole number of requests per minute, 1 or more, or None, not True",
        ),
    ],
)
def test_add_key_refuses_bad_limits_naming_them(emulator: Emulator, knobs: dict[str, Any], message: str) -> None:
    """A key's credits or rate limit that no request could be checked against: a one-line ValueError, nothing added."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        emulator.add_key("sk-bad", **knobs)
    _assert_error(_post(emulator, TINY, key="sk-bad"), 401, "invalid_api_key")


@pytest.mark.parametrize("latency", [float("inf"), float("nan"), -1.0, "1"])
def test_latency_is_a_finite_number_of_seconds(latency: Any) -> None:
    """A latency no generation could wait out (or not a number): refused when the config is made."""
    with pytest.raises(ValueError, match=r"^latency must be a finite number of seconds, 0 or more, not "):
        EmulatorConfig(latency=latency)


def test_stop_cancels_a_request_still_sleeping(capfd: pytest.CaptureFixture[str]) -> None:
    """A request asleep in a slow fault does not hold stop() for its whole delay: it is cancelled, quietly."""
    emulator = Emulator(EmulatorConfig(render="fast")).start()
    emulator.inject("slow", delay=120)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{emulator.base_url}/videos/generations", json={"model": "p-video", "prompt": "x"},
                   headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=0.5)  # fmt: skip
    folder = emulator._tmp.name if emulator._tmp is not None else ""
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 5
    assert folder
    assert not os.path.exists(folder)
    assert "Exception in ASGI application" not in capfd.readouterr().err
