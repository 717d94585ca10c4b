"""The emulator against hostile clients (issue #12): odd numbers, bombs, ranges, big pictures, CSRF, redirects."""

from __future__ import annotations

import functools
import io
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from PIL import Image
from qubrid_video.contract import validate_response
from qubrid_video_emulator import Emulator, EmulatorConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..conftest import serve_app

TINY = {"model": "p-video", "prompt": "A butterfly", "duration": 1, "aspect_ratio": "1:1", "draft": True}
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
    outcomes = [entry.outcome for entry in emulator.requests()]
    assert "error:internal_error" not in outcomes, outcomes


# Case 1: numbers Python's int() refuses, and JSON nested past the recursion limit.


@pytest.mark.parametrize("value", ["²", "+-5", "9" * 5000, "٣", "1_0", "0x5", ""])
@pytest.mark.parametrize("field", ["duration", "fps"])
def test_multipart_integers_int_refuses_are_400(emulator: Emulator, field: str, value: str) -> None:
    """Multipart integers that str.isdigit() accepts but int() refuses (or reads oddly) are a 400 naming the field."""
    fields = {"model": "p-video", field: value}
    response = _generate(emulator, data=fields, files={"unused": ("a.txt", b"x", "text/plain")})
    message = _assert_400(response, field)
    assert len(message) < 300  # a 5,000-digit number is not echoed back whole
    _no_internal_errors(emulator)


def test_multipart_integers_keep_their_ascii_forms(emulator: Emulator) -> None:
    """Signs, surrounding spaces and leading zeros still read as the number they spell."""
    fields = {**{k: str(v) for k, v in TINY.items()}, "duration": " +1 ", "fps": "0024"}
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


def test_json_long_number_under_a_repeated_key_is_a_400(emulator: Emulator) -> None:
    """A long number dropped with the first of two equal keys still gets a 400, not a crash."""
    body = (
        b'{"duration": ' + b"9" * 5000 + b', "model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": true}'
    )
    response = _generate(emulator, content=body, headers={"Content-Type": "application/json"})
    _assert_400(response, None)
    _no_internal_errors(emulator)


# Case 2: download ranges, read as RFC 9110 section 14 says.


@pytest.fixture(scope="module")
def video() -> Iterator[tuple[str, bytes]]:
    """One rendered video on an emulator of its own: its URL and its bytes."""
    with Emulator() as running:
        response = _generate(running, json=TINY)
        url = response.json()["data"][0]["url"]
        yield url, httpx.get(url).content


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",
        "bytes=²-",
        "bytes=0-1,5-9",
        "bytes=0-1, -5",
        "items=0-1",
        "bytes = 0-1",
        "bytes=",
        "bytes=-",
        "bytes",
    ],
)
def test_malformed_or_multiple_ranges_are_ignored(video: tuple[str, bytes], header: str) -> None:
    """A Range that does not parse, or names several ranges, is ignored: 200 with the whole file."""
    url, content = video
    response = httpx.get(url, headers={"Range": header.encode()})  # UTF-8 bytes: '²' is not ASCII
    assert response.status_code == 200, response.text
    assert "content-range" not in response.headers
    assert response.content == content


@pytest.mark.parametrize(
    ("header", "span"),
    [
        ("bytes=-100", (-100, None)),
        ("BYTES=0-1", (0, 2)),
        ("bytes= 10-19 ,", (10, 20)),
        ("bytes=0-" + "9" * 5000, (0, None)),
        ("bytes=-" + "9" * 5000, (0, None)),
        ("bytes=" + "0" * 5000 + "7-" + "0" * 5000 + "9", (7, 10)),
    ],
    ids=["suffix", "unit-case", "spaces-in-list", "huge-last", "huge-suffix", "leading-zeros"],
)
def test_satisfiable_ranges_are_206(video: tuple[str, bytes], header: str, span: tuple[int, int | None]) -> None:
    """Valid single ranges, suffixes and ends past the file (even of 5,000 digits) get 206 and the right bytes."""
    url, content = video
    response = httpx.get(url, headers={"Range": header})
    assert response.status_code == 206, response.text
    expected = content[span[0] : span[1]]
    assert response.content == expected
    first = len(content) - len(expected) if span[0] < 0 else span[0]
    assert response.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{len(content)}"


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(video: tuple[str, bytes], header: str) -> None:
    """A valid range starting at or past the end (or an empty suffix) is 416 with ``Content-Range: bytes */SIZE``."""
    url, content = video
    response = httpx.get(url, headers={"Range": header.format(size=len(content))})
    assert response.status_code == 416, response.text
    assert response.headers["content-range"] == f"bytes */{len(content)}"
    error = response.json()["error"]
    assert error["request_id"] == response.headers["x-request-id"]


# Case 3: pictures small on the wire and huge once decoded.


@functools.cache
def _one_bit_png(width: int, height: int) -> bytes:
    """A single-colour PNG: a few kilobytes however many pixels, and cheap to make (one bit each)."""
    buffer = io.BytesIO()
    Image.new("1", (width, height), 1).save(buffer, "PNG")
    return buffer.getvalue()


# 64 megapixels stays under Pillow's own warning (89M), so only the emulator's cap can refuse it.
@pytest.mark.parametrize("size", [(8000, 8000), (13000, 13000)], ids=["64MP", "169MP"])
def test_uploaded_picture_over_the_pixel_cap_is_400(emulator: Emulator, size: tuple[int, int]) -> None:
    """An upload decoding to more than 40 megapixels is refused from its header, naming image_file."""
    fields = {k: str(v).lower() for k, v in TINY.items()}
    files = {"image_file": ("huge.png", _one_bit_png(*size), "image/png")}
    message = _assert_400(_generate(emulator, data=fields, files=files), "image_file")
    assert "40,000,000 pixels" in message
    assert emulator.generations == 0


def test_fetched_picture_over_the_pixel_cap_is_400(emulator: Emulator) -> None:
    """The same cap holds for a picture fetched from a (loopback) URL, naming image."""
    picture = _one_bit_png(8000, 8000)

    async def serve_png(request: Request) -> Response:
        return Response(picture, media_type="image/png")

    with serve_app(Starlette(routes=[Route("/huge.png", serve_png)])) as origin:
        message = _assert_400(_generate(emulator, json={**TINY, "image": f"{origin}/huge.png"}), "image")
    assert "40,000,000 pixels" in message
    assert emulator.generations == 0


def test_an_8k_picture_is_under_the_cap(emulator: Emulator) -> None:
    """A 7680 x 4320 picture (33 megapixels) is still accepted."""
    fields = {k: str(v).lower() for k, v in TINY.items()}
    files = {"image_file": ("8k.png", _one_bit_png(7680, 4320), "image/png")}
    assert _generate(emulator, data=fields, files=files).status_code == 200


# Case 4: the control API refuses what a web page could send it (CSRF).

EVIL = "http://evil.example"
SIMPLE_FORM = {"Content-Type": "text/plain"}  # what a page may POST cross-origin without a preflight


def _control(emulator: Emulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{emulator.origin}/_emulator/{path}", timeout=30, **kwargs)


def _assert_control_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param", "request_id"}
    assert error["code"] == code
    assert error["param"] is None
    assert error["request_id"] == response.headers["x-request-id"]


def _key_works(emulator: Emulator, key: str) -> bool:
    return _generate(emulator, json=TINY, headers={"Authorization": f"Bearer {key}"}).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({**SIMPLE_FORM, "Origin": EVIL}, 403, "forbidden_origin"),
        ({"Content-Type": "application/json", "Origin": EVIL}, 403, "forbidden_origin"),
        ({"Content-Type": "application/json", "Origin": "null"}, 403, "forbidden_origin"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, "forbidden_origin"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403, "forbidden_origin"),
        (SIMPLE_FORM, 415, "unsupported_content_type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_content_type"),
        ({}, 415, "unsupported_content_type"),
    ],
    ids=["text-evil", "json-evil", "origin-null", "cross-site", "same-site", "text", "form", "no-type"],
)
def test_control_api_refuses_what_a_web_page_can_send(
    emulator: Emulator, headers: dict[str, str], status: int, code: str
) -> None:
    """A foreign Origin or Sec-Fetch-Site is 403, a body that is not JSON 415; nothing changes."""
    key = _control(emulator, "POST", "keys", content=b'{"key": "sk-evil"}', headers=headers)
    _assert_control_error(key, status, code)
    fault = _control(emulator, "POST", "faults", content=b'{"kind": "500", "count": 5}', headers=headers)
    _assert_control_error(fault, status, code)
    assert emulator.state.faults.pending() == 0
    assert not _key_works(emulator, "sk-evil")


def test_control_api_refuses_foreign_origins_for_every_route(emulator: Emulator) -> None:
    """Clearing the journal or the faults, and reading them, from a foreign origin are 403 too."""
    _generate(emulator, json=TINY)
    emulator.inject("502")
    for method, path in [("DELETE", "journal"), ("DELETE", "faults"), ("GET", "journal"), ("GET", "health")]:
        _assert_control_error(_control(emulator, method, path, headers={"Origin": EVIL}), 403, "forbidden_origin")
    assert len(emulator.requests()) == 1
    assert emulator.state.faults.pending() == 1


def test_control_api_accepts_its_own_origin_and_no_origin(emulator: Emulator) -> None:
    """The emulator's own origin (or localhost on its port) and no Origin at all, with JSON, still work."""
    port = emulator.origin.rsplit(":", 1)[1]
    for number, origin in enumerate([emulator.origin, f"http://localhost:{port}", None]):
        headers = {"Sec-Fetch-Site": "same-origin"} | ({"Origin": origin} if origin else {})
        added = _control(emulator, "POST", "keys", json={"key": f"sk-{number}"}, headers=headers)
        assert added.status_code == 200, added.text
        assert _key_works(emulator, f"sk-{number}")
    near_miss = _control(
        emulator, "POST", "keys", json={"key": "sk-x"}, headers={"Origin": f"http://localhost:1{port}"}
    )
    _assert_control_error(near_miss, 403, "forbidden_origin")
    cleared = _control(emulator, "DELETE", "journal", headers={"Origin": emulator.origin})
    assert cleared.json() == {"requests": [], "downloads": []}


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"[1]", b'"sk"', b'{"key": "k", "models": 5}'])
@pytest.mark.parametrize("path", ["keys", "faults"])
def test_control_api_bad_json_is_400(emulator: Emulator, path: str, body: bytes) -> None:
    """Nesting bombs and JSON that is not an object are a 400, not a crash."""
    response = _control(emulator, "POST", path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert _control(emulator, "GET", "health").json()["status"] == "ok"


# Case 5: input URLs whose redirects leave the machine while the emulator is offline.


class _RawServer(socketserver.ThreadingTCPServer):
    """A loopback HTTP server answering raw bytes chosen per path; it records every request line."""

    daemon_threads = True

    def __init__(self, answer: Callable[[str], bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.answer = answer
        self.lines: list[str] = []

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _RawServer)
        head = b""
        while b"\r\n\r\n" not in head and (chunk := self.request.recv(65536)):
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        server.lines.append(line)
        self.request.sendall(server.answer(line.split(" ")[1] if " " in line else ""))


@contextmanager
def _raw_server(answer: Callable[[str], bytes]) -> Iterator[_RawServer]:
    server = _RawServer(answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _redirect(location: str) -> bytes:
    return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


def _png_answer(path: str) -> bytes:
    picture = _one_bit_png(64, 64)
    head = f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(picture)}\r\nConnection: close\r\n\r\n"
    return head.encode() + picture


@pytest.mark.parametrize("field", ["image", "audio"])
def test_redirect_off_loopback_is_not_followed_when_offline(emulator: Emulator, field: str) -> None:
    """A loopback URL redirecting to a non-loopback host (0.0.0.0 reaches this machine) is a 400; no hop is made."""
    with _raw_server(_png_answer) as target:
        hop = f"http://0.0.0.0:{target.server_address[1]}/x.png"
        with _raw_server(lambda path: _redirect(hop)) as redirector:
            response = _generate(emulator, json={**TINY, field: f"{redirector.origin}/start"})
            message = _assert_400(response, field)
        assert "redirect" in message
        assert "leaves this machine" in message
        assert redirector.lines == ["GET /start HTTP/1.1"]
        assert target.lines == []


def test_redirect_to_an_unresolvable_host_is_refused_before_any_lookup(emulator: Emulator) -> None:
    """The hop's host is judged by its name, so the 400 says the redirect leaves the machine."""
    with _raw_server(lambda path: _redirect("http://example.invalid/x.png")) as redirector:
        message = _assert_400(_generate(emulator, json={**TINY, "image": f"{redirector.origin}/a"}), "image")
    assert "leaves this machine" in message
    assert "example.invalid" in message


def test_redirects_on_loopback_are_followed(emulator: Emulator) -> None:
    """Relative and absolute redirects that stay on loopback are followed to the picture."""

    def answer(path: str) -> bytes:
        return {"/a": _redirect("/b"), "/b": _redirect(f"http://localhost:{port}/c.png")}.get(path) or _png_answer(path)

    with _raw_server(answer) as server:
        port = server.server_address[1]
        response = _generate(emulator, json={**TINY, "image": f"{server.origin}/a"})
        assert response.status_code == 200, response.text
        assert server.lines == ["GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c.png HTTP/1.1"]


def test_redirect_loops_stop_after_five_hops(emulator: Emulator) -> None:
    """A redirect loop is a 400 naming the field after a handful of hops, not twenty."""
    with _raw_server(_redirect) as server:  # every path redirects to itself
        message = _assert_400(_generate(emulator, json={**TINY, "image": f"{server.origin}/loop"}), "image")
        assert "redirects" in message
        assert len(server.lines) == 6  # the first request and five redirects


def test_redirect_off_loopback_is_followed_when_remote_fetching_is_on() -> None:
    """With fetch_remote, each hop may leave loopback, as the first URL may."""
    with Emulator(EmulatorConfig(fetch_remote=True)) as emulator, _raw_server(_png_answer) as target:
        hop = f"http://0.0.0.0:{target.server_address[1]}/x.png"
        with _raw_server(lambda path: _redirect(hop)) as redirector:
            response = _generate(emulator, json={**TINY, "image": f"{redirector.origin}/start"})
        assert response.status_code == 200, response.text
        assert target.lines == ["GET /x.png HTTP/1.1"]
