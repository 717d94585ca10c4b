"""Rendered videos, read back with PyAV: shape, frame rate, duration, audio, image, prompt, draft."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from qubrid_video_emulator import Emulator

from ..media import frame_error, noise_png, png, probe, wav


def _generate(emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None) -> bytes:
    auth = {"Authorization": f"Bearer {emulator.api_key}"}
    url = f"{emulator.base_url}/videos/generations"
    if files:
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
        response = httpx.post(url, data=data, files=files, headers=auth, timeout=120)
    else:
        response = httpx.post(url, json=fields, headers=auth, timeout=120)
    assert response.status_code == 200, response.text
    return httpx.get(response.json()["data"][0]["url"], timeout=60).content


@pytest.mark.parametrize(
    ("resolution", "aspect_ratio", "size"),
    [
        ("720p", "16:9", (1280, 720)),
        ("720p", "9:16", (720, 1280)),
        ("720p", "1:1", (720, 720)),
        ("1080p", "16:9", (1920, 1080)),
        ("720p", "4:3", (960, 720)),
        ("1080p", "3:4", (1080, 1440)),
        ("720p", "3:2", (1080, 720)),
        ("720p", "2:3", (720, 1080)),
    ],
)
def test_resolution_and_aspect_ratio(
    emulator: Emulator, resolution: str, aspect_ratio: str, size: tuple[int, int]
) -> None:
    """The frame size follows resolution (the short side) and aspect ratio."""
    video = probe(_generate(emulator, {"model": "p-video", "resolution": resolution, "aspect_ratio": aspect_ratio,
                                       "duration": 1, "draft": True}))  # fmt: skip
    assert (video["width"], video["height"]) == size
    assert video["codec"] == "h264"


@pytest.mark.parametrize(("duration", "fps"), [(1, 24), (3, 24), (2, 48)])
def test_duration_and_fps(emulator: Emulator, duration: int, fps: int) -> None:
    """Frame rate, frame count and duration are what was asked."""
    fields = {"model": "p-video", "duration": duration, "fps": fps, "aspect_ratio": "1:1", "draft": True}
    video = probe(_generate(emulator, fields))
    assert video["fps"] == fps
    assert video["frames"] == duration * fps
    assert video["duration"] == pytest.approx(duration, abs=0.1)
    assert video["audio"] == 0


def test_uploaded_image_and_audio(emulator: Emulator) -> None:
    """An uploaded image fills the frame, and uploaded audio is muxed in when save_audio is true."""
    fields = {"model": "p-video", "duration": 2, "draft": True, "save_audio": True}
    files = {
        "image_file": ("green.png", png((10, 200, 10), size=(240, 240)), "image/png"),
        "audio_file": ("a.wav", wav(1.0), "audio/wav"),
    }
    video = probe(_generate(emulator, fields, files))
    red, green, blue = video["center"]  # type: ignore[misc]
    assert green > 150
    assert max(red, blue) < 60
    assert video["audio"] == 1
    silent = probe(_generate(emulator, {**fields, "save_audio": False}, files))
    assert silent["audio"] == 0


def test_prompt_upsampling_changes_the_drawn_prompt(emulator: Emulator) -> None:
    """The caption drawn with prompt_upsampling differs from the one drawn without it."""
    base = {"model": "p-video", "prompt": "A red fox", "duration": 1, "aspect_ratio": "1:1", "draft": True}
    plain = probe(_generate(emulator, {**base, "prompt_upsampling": False}))
    upsampled = probe(_generate(emulator, {**base, "prompt_upsampling": True}))
    assert plain["caption"] != upsampled["caption"]


def test_draft_is_lower_quality(emulator: Emulator) -> None:
    """Draft keeps the shape but loses more of the input picture's detail than a full render."""
    picture = noise_png((720, 720))
    image = ("noise.png", picture, "image/png")
    base = {"model": "p-video", "prompt": "", "prompt_upsampling": False, "duration": 1}
    full = _generate(emulator, {**base, "draft": False}, {"image_file": image})
    draft = _generate(emulator, {**base, "draft": True}, {"image_file": image})
    assert (
        (probe(draft)["width"], probe(draft)["height"]) == (probe(full)["width"], probe(full)["height"]) == (720, 720)
    )
    box = (0, 120, 720, 320)  # between the moving marker and the caption band
    assert frame_error(draft, picture, box) > frame_error(full, picture, box) * 1.2


def test_identical_requests_reuse_the_render(emulator: Emulator) -> None:
    """Two identical requests are two generations, each with its own URL, but one render: the same file."""
    auth = {"Authorization": f"Bearer {emulator.api_key}"}
    body = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}
    urls = {
        httpx.post(f"{emulator.base_url}/videos/generations", json=body, headers=auth).json()["data"][0]["url"]
        for _ in range(2)
    }
    assert len(urls) == 2
    assert len({httpx.head(url).headers["etag"] for url in urls}) == 1
    assert emulator.generations == 2
