"""The API key never shows: not in logs at DEBUG, reprs, messages, tracebacks, pickles or other hosts."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import qubrid_video as qv
from qubrid_video import Qubrid, QubridError
from qubrid_video_emulator import Emulator, EmulatorConfig, KeyPolicy

from ..downloading import clear_key_paths
from ..hostile import TEST_KEY, calls, hostile, raw_answer, video_answer

KEY = "sk-live-TOPSECRET-0123456789"
TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}


def test_key_absent_from_everything_captured(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """Successes, every kind of failure and a download, with every logger at DEBUG: no trace of the key."""
    captured: list[str] = []
    with Emulator(EmulatorConfig(keys={KEY: KeyPolicy()})) as emulator, caplog.at_level(logging.DEBUG):
        with Qubrid(api_key=KEY, base_url=emulator.base_url, max_retries=1) as client:
            captured.append(repr(client))
            video = client.videos.generate(**TINY)
            captured += [repr(video), str(video), repr(pickle.dumps(video)), repr(vars(video.response.request.headers))]
            video.download(tmp_path / "v.mp4")
            for kind in ("500", "504", "html", "malformed_json", "drop_before", "drop_mid"):
                emulator.inject(kind)
                try:
                    client.videos.generate(**TINY)
                except QubridError as error:
                    captured += [str(error), repr(error), "".join(traceback.format_exception(error))]
                    captured.append(repr(pickle.dumps(error)))
                    response = getattr(error, "response", None)
                    if response is not None:
                        captured.append(str(response.request.headers))
        assert all(d.authorization is False for d in emulator.downloads())
    captured += [record.getMessage() for record in caplog.records]
    assert any("status=200" in line for line in captured)  # the DEBUG log really ran
    leaks = [text for text in captured if KEY in text]
    assert leaks == []


def test_qubrid_log_env_turns_on_debug_logging() -> None:
    """QUBRID_LOG=debug logs method, status, request id, attempt and timing to stderr, never the key."""
    code = f"""
import qubrid_video
from qubrid_video_emulator import Emulator, EmulatorConfig, KeyPolicy
with Emulator(EmulatorConfig(keys={{{KEY!r}: KeyPolicy()}})) as emulator:
    emulator.inject("502")
    with qubrid_video.Qubrid(api_key={KEY!r}, base_url=emulator.base_url) as client:
        client.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"QUBRID_LOG": "debug"},
                            timeout=120, check=True)  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if "qubrid_video" in line]
    assert any("attempt=1 status=502" in line for line in lines)
    assert any("attempt=2 status=200 request_id=req-qubrid-" in line and "elapsed=" in line for line in lines)
    assert KEY not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("mode", "answer"),
    [("canned", raw_answer("404 Not Found", b"{}")), ("drop:rst", b""), ("silent", b""), ("canned", video_answer())],
    ids=["status-error", "dropped", "timed-out", "video"],
)
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_key_in_clear_is_reachable_from_a_generation(flavour: str, mode: str, answer: bytes) -> None:
    """Nothing reachable from a generation's error (its chain, its traceback's frames' locals and all
    they hold) or from the video it made (its response) holds ``Bearer <key>``: not the call's
    headers, not the httpx error's request, not httpcore's copy of the request."""
    with hostile(mode, answer=answer) as (base_url, recorder):
        ((outcome, _),) = calls(flavour, base_url, timeout=2, max_retries=0)
    assert recorder.header(0, "authorization") == f"Bearer {TEST_KEY}"  # the key was sent: there was one to leak
    assert isinstance(outcome, qv.Video | qv.AsyncVideo) == (answer == video_answer())
    assert clear_key_paths(outcome, TEST_KEY) == []


def _sequences_holding(value: object, secret: str, depth: int = 0) -> bool:
    """Whether `secret` is an item of `value` or of the lists, tuples and dicts inside it, as an error
    tracker's serializer walks them (other objects it shows by their repr)."""
    if depth > 4:
        return False
    if isinstance(value, tuple | list):
        return any(item == secret or _sequences_holding(item, secret, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(_sequences_holding(item, secret, depth + 1) for item in (*value.keys(), *value.values()))
    return secret in repr(value) if not isinstance(value, str) else False


@pytest.mark.parametrize(
    "mistake",
    ["generate(duration='x')", "with_options(max_retries=-1)", "Qubrid(http_client=object())"],
)
def test_an_error_trackers_view_of_the_frames_holds_no_key(mistake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Error trackers record each frame's locals, walking tuples, lists and dicts item by item and
    showing other objects by their repr (a local named like ``api_key`` they scrub by name). No
    local of a frame of a usual mistake holds the key that way; and every local's repr works, so a
    traceback with locals can be written at all."""
    monkeypatch.setenv("QUBRID_API_KEY", TEST_KEY)
    client = Qubrid(base_url="http://127.0.0.1:9/v1")
    mistakes = {
        "generate(duration='x')": lambda: client.videos.generate(model="p-video", duration="x"),  # type: ignore[arg-type]
        "with_options(max_retries=-1)": lambda: client.with_options(max_retries=-1),
        "Qubrid(http_client=object())": lambda: Qubrid(http_client=object()),  # type: ignore[arg-type]
    }
    with pytest.raises(QubridError) as caught:
        mistakes[mistake]()
    frames = [frame for frame, _ in traceback.walk_tb(caught.value.__traceback__)]
    assert frames
    for frame in frames:
        for name, value in frame.f_locals.items():
            assert not _sequences_holding(value, TEST_KEY), f"{frame.f_code.co_name}: {name}"
    traceback.TracebackException.from_exception(caught.value, capture_locals=True)
