"""Error classes and their one-line messages, from real answers: the emulator or a raw socket."""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import qubrid_video as qv
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from qubrid_video._errors import _one_line
from qubrid_video_cli._commands import cli
from qubrid_video_cli._exits import printable
from qubrid_video_emulator import Emulator

from ..hostile import hostile, raw_answer

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}
CLIENTS = ["sync", "async"]


def _generate(flavour: str, base_url: str, api_key: str, arguments: dict[str, Any]) -> None:
    if flavour == "sync":
        with qv.Qubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            client.videos.generate(**arguments)
        return

    async def call() -> None:
        async with qv.AsyncQubrid(api_key=api_key, base_url=base_url, max_retries=0) as client:
            await client.videos.generate(**arguments)

    asyncio.run(call())


def _raised(flavour: str, base_url: str, api_key: str = "sk-test", **overrides: Any) -> qv.APIError:
    """The APIError one generate() call raises, through the sync or the async client, retries off."""
    with pytest.raises(qv.APIError) as caught:
        _generate(flavour, base_url, api_key, {**TINY, **overrides})
    return caught.value


# 404: a wrong URL is not an unknown model.


@pytest.mark.parametrize("flavour", CLIENTS)
def test_base_url_without_v1_is_not_found_not_model_not_found(emulator: Emulator, flavour: str) -> None:
    """A base URL missing /v1 gets a 404 that is a NotFoundError, and not a ModelNotFoundError."""
    error = _raised(flavour, emulator.base_url.removesuffix("/v1"), emulator.api_key)
    assert type(error) is qv.NotFoundError
    assert not isinstance(error, qv.ModelNotFoundError)
    assert error.status_code == 404
    assert error.code == "not_found"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy)) == (qv.NotFoundError, str(error))


@pytest.mark.parametrize("flavour", CLIENTS)
def test_unknown_model_is_model_not_found(emulator: Emulator, flavour: str) -> None:
    """A 404 whose code is model_not_found is a ModelNotFoundError, which is also a NotFoundError."""
    error = _raised(flavour, emulator.base_url, emulator.api_key, model="p-video-ultra")
    assert type(error) is qv.ModelNotFoundError
    assert isinstance(error, qv.NotFoundError)
    assert error.param == "model"


@pytest.mark.parametrize("flavour", CLIENTS)
def test_plain_text_404_is_not_found(flavour: str) -> None:
    """A 404 that is not the API's JSON (a proxy's page) has no code, so it is a plain NotFoundError."""
    wire = raw_answer("404 Not Found", b"404 page not found\n", "Content-Type: text/plain")
    with hostile("canned", answer=wire) as (base_url, _):
        error = _raised(flavour, base_url)
    assert type(error) is qv.NotFoundError
    assert error.body == "404 page not found\n"


# str(err) is one line, whatever the server sent.

FORGED = "bad value\n qubrid-video: error: forged\r\n\x1b[31mred\x1b[0m\u2028\x9b2J\x07"
HTML_502 = b"""<html>\r
<head><title>502 Bad Gateway</title></head>\r
<body>\r
\t<center><h1>502 Bad Gateway</h1></center>\r
<hr><center>nginx</center>\r
</body>\r
</html>\r
"""
# Anything that could break a line or drive a terminal: C0, DEL, C1, the Unicode line separators,
# and the format characters (bidi overrides and isolates reorder the rest of a line as shown).
UNPRINTABLE = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")}


def _json_error(status: str, error: dict[str, Any]) -> bytes:
    body = json.dumps({"error": {"type": "invalid_request_error", **error}}).encode()
    return raw_answer(status, body, "Content-Type: application/json")


def _assert_one_line(text: str, bound: int) -> None:
    assert "\n" not in text
    assert len(text.splitlines()) == 1
    assert not UNPRINTABLE & set(text), [c for c in text if c in UNPRINTABLE]
    assert len(text) <= bound


@pytest.mark.parametrize("flavour", CLIENTS)
def test_html_error_page_is_one_line(flavour: str) -> None:
    """A multi-line HTML 502 from a proxy: str() is one line; err.body keeps the whole page."""
    with hostile("canned", answer=raw_answer("502 Bad Gateway", HTML_502, "Content-Type: text/html")) as (url, _):
        error = _raised(flavour, url)
    assert isinstance(error, qv.BackendUnavailableError)
    _assert_one_line(str(error), 400)
    assert "<title>502 Bad Gateway</title></head> <body> <center>" in str(error)
    assert error.body == HTML_502.decode()


@pytest.mark.parametrize("flavour", CLIENTS)
def test_forged_lines_and_escape_codes_are_neutralised(flavour: str) -> None:
    """Line breaks and escape codes in every field are flattened or escaped in str(); the attributes stay raw."""
    fields = {"message": FORGED, "code": "bad\x1b[2Jcode", "param": "p\nq", "request_id": "req-1\r\n\x1b]0;x\x07"}
    with hostile("canned", answer=_json_error("400 Bad Request", fields)) as (url, _):
        error = _raised(flavour, url)
    text = str(error)
    _assert_one_line(text, 400)
    assert text == (r"HTTP 400 bad\x1b[2Jcode bad value qubrid-video: error: forged \x1b[31mred\x1b[0m \x9b2J\x07"
                    r" (param: p q) [request_id: req-1 \x1b]0;x\x07]")  # fmt: skip
    assert (error.message, error.code, error.param, error.request_id) == (
        fields["message"], fields["code"], fields["param"], fields["request_id"]
    )  # fmt: skip
    assert error.body == {"error": {"type": "invalid_request_error", **fields}}
    assert str(pickle.loads(pickle.dumps(error))) == text


@pytest.mark.parametrize("flavour", CLIENTS)
def test_bidi_and_invisible_characters_are_escaped(flavour: str) -> None:
    """A right-to-left override, isolates, marks and zero-width characters from the server are escaped
    in str() (``\\u202e``), so they cannot reorder what a terminal shows; the attributes stay raw."""
    fields = {"message": "pay \u202eexe.4pm\u202c now\u200b", "request_id": "req-\u2066x\u2069\u200f\ufeff"}
    with hostile("canned", answer=_json_error("400 Bad Request", fields)) as (url, _):
        error = _raised(flavour, url)
    text = str(error)
    _assert_one_line(text, 400)
    assert text == r"HTTP 400 pay \u202eexe.4pm\u202c now\u200b [request_id: req-\u2066x\u2069\u200f\ufeff]"
    assert (error.message, error.request_id) == (fields["message"], fields["request_id"])


@pytest.mark.parametrize("show", [_one_line, printable], ids=["sdk-messages", "cli-printable"])
def test_every_control_and_format_character_is_escaped(show: Callable[[str, int], str]) -> None:
    """Every character of categories Cc, Cf, Zl and Zp this Python knows is escaped by the SDK's
    messages and by the CLI's printable(): none is kept as it is."""
    text = "".join(sorted(UNPRINTABLE))
    shown = show(text, 10 * len(text))
    assert not shown.endswith("…")
    assert not UNPRINTABLE & set(shown), sorted({f"U+{ord(c):04X}" for c in shown if c in UNPRINTABLE})
    assert r"\u202e" in shown
    assert r"\U000e0041" in shown  # a tag character, past the Basic Multilingual Plane


@pytest.mark.parametrize("flavour", CLIENTS)
def test_long_message_is_shortened(flavour: str) -> None:
    """A 10 kB message is cut to MESSAGE_LIMIT characters ending in an ellipsis; the request id still shows."""
    message = "spam " * 2000
    wire = _json_error("400 Bad Request", {"message": message, "request_id": "req-9"})
    with hostile("canned", answer=wire) as (url, _):
        error = _raised(flavour, url)
    _assert_one_line(str(error), 400)
    assert "spam spam…" in str(error)
    assert str(error).endswith("[request_id: req-9]")
    assert error.message == message
    assert isinstance(error.body, dict)
    assert error.body["error"]["message"] == message


_field = st.one_of(st.none(), st.text(max_size=2000))


@given(message=st.text(max_size=20000), code=_field, param=_field, request_id=_field)
@settings(max_examples=200, deadline=None)
def test_any_text_renders_as_one_bounded_line(
    message: str, code: str | None, param: str | None, request_id: str | None
) -> None:
    """Whatever the fields hold, str() of an API error is one line of bounded length, with no controls."""
    error = qv.APIStatusError(message, status_code=599, code=code, param=param, request_id=request_id,
                              may_have_generated=True)  # fmt: skip
    _assert_one_line(str(error), 700)
    assert error.message == message


def test_cli_prints_one_error_line_for_a_forged_message(tmp_path: Path) -> None:
    """The CLI's report of a message holding a forged 'qubrid-video: error:' line is exactly one line."""
    with hostile("canned", answer=_json_error("400 Bad Request", {"message": FORGED, "request_id": "r"})) as (url, _):
        result = CliRunner().invoke(cli, ["generate", "A fox", "-o", str(tmp_path)],
                                    env={"QUBRID_API_KEY": "sk-test", "QUBRID_BASE_URL": url})  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.count("qubrid-video: error:") == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("qubrid-video: error: HTTP 400 bad value qubrid-video: error: forged ")
    assert "\x1b" not in result.stderr


def test_rate_limit_error_says_how_long_the_api_asked_to_wait(emulator: Emulator) -> None:
    """A 429 that outlasts the retries names the wait the API asked for, on its one line."""
    emulator.inject("429", count=5, retry_after=120)
    with (
        qv.Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client,
        pytest.raises(qv.RateLimitError) as caught,
    ):
        client.videos.generate(model="p-video")
    assert caught.value.retry_after == 120
    assert str(caught.value).endswith("[retry after 120 s]")


def test_download_error_says_which_status_or_errno_and_pickles_them(emulator: Emulator, tmp_path: Path) -> None:
    """An HTTP failure carries its status (an expired link: 404), and both fields survive pickling."""
    video = qv.Video(url=f"{emulator.files_origin}/files/{'0' * 32}.mp4", created=None, request_id=None)
    with pytest.raises(qv.DownloadError) as caught:
        video.download(tmp_path / "v.mp4")
    assert (caught.value.status_code, caught.value.errno) == (404, None)
    copy = pickle.loads(pickle.dumps(qv.DownloadError("disk full", url="u", errno=28)))
    assert (copy.errno, copy.status_code, copy.url) == (28, None, "u")
    assert pickle.loads(pickle.dumps(caught.value)).status_code == 404
