"""Hostile input: each case raises a documented error naming the parameter, before anything is sent."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qubrid_video import AsyncQubrid, InvalidParameterError, ParameterTypeError, Qubrid, Timeout
from qubrid_video_emulator import Emulator

from ..hostile import hostile, raw_answer
from ..media import png

Call = Callable[..., Any]
OK = raw_answer("200 OK", json.dumps({"created": 1, "data": [{"url": "https://cdn.example/v.mp4"}]}).encode(),
                "Content-Type: application/json")  # fmt: skip


@pytest.fixture(params=["sync", "async"])
def generate(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[Call]:
    """`videos.generate` of a Qubrid or an AsyncQubrid bound to the emulator, called synchronously."""
    if request.param == "sync":
        with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            yield client.videos.generate
        return

    def run(**kwargs: Any) -> Any:
        async def once() -> Any:
            async with AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
                return await client.videos.generate(**kwargs)

        return asyncio.run(once())

    yield run


def _refused(generate: Call, emulator: Emulator, param: str, error: type[Exception] = InvalidParameterError,
             **kwargs: Any) -> InvalidParameterError:  # fmt: skip
    with pytest.raises(error) as caught:
        generate(**{"model": "p-video", "prompt": "x", **kwargs})
    assert isinstance(caught.value, InvalidParameterError)
    assert caught.value.param == param
    assert emulator.requests() == []
    return caught.value


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused(generate: Call, emulator: Emulator, path: str) -> None:
    """A device is not a regular file: refused, never streamed (endless, or empty)."""
    assert "not a regular file" in str(_refused(generate, emulator, "image", image=path))


def test_proc_files_are_refused(generate: Call, emulator: Emulator) -> None:
    """/proc files claim 0 bytes: refused as empty rather than sent with a wrong length."""
    assert "is empty" in str(_refused(generate, emulator, "audio", audio="/proc/self/status"))


def test_a_fifo_is_refused_without_blocking(generate: Call, emulator: Emulator, tmp_path: Path) -> None:
    """Opening a FIFO for reading would wait forever for a writer; it is refused at once."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            generate(model="p-video", image=fifo)
        except BaseException as exc:  # recorded for the assertion below
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # the bug: blocked in open(); let it go, then fail
        with fifo.open("wb"):
            pass
        pytest.fail("generate() blocked on a FIFO")
    assert isinstance(outcome[0], InvalidParameterError)
    assert "not a regular file" in str(outcome[0])
    assert emulator.requests() == []


def test_file_object_states_are_checked(generate: Call, emulator: Emulator, tmp_path: Path) -> None:
    """A closed file, a write-only file and an empty file object are refused, naming the parameter."""
    path = tmp_path / "a.png"
    path.write_bytes(png())
    closed = path.open("rb")
    closed.close()
    assert "closed" in str(_refused(generate, emulator, "image", image=closed))
    with path.open("ab") as write_only:
        assert "not open for reading" in str(_refused(generate, emulator, "image", image=write_only))
    assert "empty" in str(_refused(generate, emulator, "image", image=io.BytesIO()))


def test_bad_paths_are_refused(generate: Call, emulator: Emulator, tmp_path: Path) -> None:
    """An over-long path, a path with NUL and an empty file are refused with the reason."""
    assert "File name too long" in str(_refused(generate, emulator, "image", image=str(tmp_path / ("a" * 5000))))
    assert "null" in str(_refused(generate, emulator, "image", image=str(tmp_path / "a\0b")))
    (tmp_path / "empty.png").write_bytes(b"")
    assert "is empty" in str(_refused(generate, emulator, "image", image=tmp_path / "empty.png"))


@pytest.mark.parametrize("field", ["prompt", "model", "resolution", "aspect_ratio"])
def test_lone_surrogates_are_refused(generate: Call, emulator: Emulator, field: str) -> None:
    """Text that cannot be encoded (a lone surrogate) is refused before sending, naming the field."""
    assert "lone surrogate" in str(_refused(generate, emulator, field, **{field: "fox \ud800"}))


def test_tuples_are_checked(generate: Call, emulator: Emulator) -> None:
    """A MIME type with a line break (part-header injection) and empty tuple content are refused."""
    injected = ("a.png", png(), "image/png\r\nX-Injected: 1")
    assert "MIME type" in str(_refused(generate, emulator, "image", image=injected))
    assert "empty" in str(_refused(generate, emulator, "image", image=("a.png", b"", "image/png")))
    assert "empty" in str(_refused(generate, emulator, "image", image=("a.png", io.BytesIO(), "image/png")))


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({"X-Name": "café"}, "non-ASCII"),
        ({"X-Name": "a\r\nX-Injected: 1"}, "line break"),
        ({"X Name": "1"}, "not allowed"),
        ({"X:Name": "1"}, "not allowed"),
        ({"X\0Name": "1"}, "not allowed"),
        ({"": "1"}, "not allowed"),
        ({"Content-Type": "text/plain"}, "set by the SDK"),
        ({"accept-encoding": "br"}, "set by the SDK"),
        ({"X-A": "1", "x-a": "2"}, "given twice"),
    ],
)
def test_bad_headers_are_refused(generate: Call, emulator: Emulator, headers: dict[str, str], text: str) -> None:
    """Header names must be HTTP tokens and values printable ASCII; framing headers belong to the SDK."""
    assert text in str(_refused(generate, emulator, "extra_headers", extra_headers=headers))


@pytest.mark.parametrize("seconds", [-1, 0, float("nan"), float("inf")])
def test_unusable_timeouts_are_refused(generate: Call, emulator: Emulator, seconds: float) -> None:
    """A negative, zero, NaN or infinite time limit is refused, as a number or inside a Timeout."""
    assert "positive, finite" in str(_refused(generate, emulator, "timeout", timeout=seconds))
    with pytest.raises(InvalidParameterError, match="positive, finite") as caught:
        Timeout(read=seconds)
    assert caught.value.param == "timeout.read"


def test_client_wide_idempotency_key_is_refused() -> None:
    """One Idempotency-Key on every call would replay the first answer for all: refused in default_headers."""
    with pytest.raises(InvalidParameterError, match="must differ per call") as caught:
        Qubrid(api_key="k", base_url="http://127.0.0.1:9/v1", default_headers={"idempotency-key": "same"})
    assert caught.value.param == "default_headers"
    with pytest.raises(ParameterTypeError):
        Qubrid(api_key="k", base_url="http://127.0.0.1:9/v1", default_headers={"X-A": 1})


def _header_lines(head: str, name: str) -> list[str]:
    return [line for line in head.split("\r\n") if line.lower().startswith(name.lower() + ":")]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_headers_merge_case_insensitively(kind: str) -> None:
    """Each header is sent once whatever its spelling; per-call beats client-wide beats the SDK's own."""
    with hostile("canned", answer=OK) as (base_url, recorder):
        options: dict[str, Any] = {"api_key": "sk-mine", "base_url": base_url,
                                   "default_headers": {"x-team": "video", "authorization": "Bearer gateway"}}  # fmt: skip
        extra = {"X-TEAM": "override", "idempotency-key": "key-1"}
        if kind == "sync":
            with Qubrid(**options) as client:
                client.videos.generate(model="p-video", extra_headers=extra)
        else:

            async def once() -> None:
                async with AsyncQubrid(**options) as client:
                    await client.videos.generate(model="p-video", extra_headers=extra)

            asyncio.run(once())
    (head,) = recorder.requests
    assert _header_lines(head, "authorization") == ["authorization: Bearer gateway"]
    assert _header_lines(head, "x-team") == ["X-TEAM: override"]
    assert _header_lines(head, "idempotency-key") == ["Idempotency-Key: key-1"]
    assert "sk-mine" not in head


def test_a_file_that_changes_size_while_sent_fails_cleanly(emulator: Emulator, tmp_path: Path) -> None:
    """A file that grows after the call measured it ends in InvalidParameterError, not a corrupt request."""
    path = tmp_path / "grow.png"
    path.write_bytes(png())

    class Growing(io.FileIO):
        """Grows by a byte each time it is read, as a file being written to meanwhile would."""

        def read(self, size: int = -1) -> bytes:
            data = super().read(size)
            with path.open("ab") as more:
                more.write(b"\0")
            return data

    with (
        Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client,
        Growing(path, "rb") as handle,
        pytest.raises(InvalidParameterError, match="grew while it was being sent") as caught,
    ):
        client.videos.generate(model="p-video", image=handle)
    assert caught.value.param == "image"
    assert emulator.generations == 0
