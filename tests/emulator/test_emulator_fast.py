"""EmulatorConfig(render="fast"): plain videos of the right shape, valid to the last frame, one render per shape."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import av
import av.logging
import httpx
import pytest
from av.bitstream import BitStreamFilterContext
from qubrid_video_emulator import Emulator, EmulatorConfig

from ..media import png, probe, wav
from .posting import post_generation


@pytest.fixture(scope="module")
def fast() -> Iterator[Emulator]:
    """One fast-rendering emulator for the module (its renders are the point: they are shared)."""
    with Emulator(EmulatorConfig(render="fast")) as running:
        yield running


def _post(emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None) -> httpx.Response:
    return post_generation(emulator, fields, files, timeout=60)


def _video_url(emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None) -> str:
    response = _post(emulator, fields, files)
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["url"])


def _decode_warnings(video: bytes) -> list[str]:
    """What FFmpeg says, at warning level or worse, while demuxing and decoding every frame."""
    av.logging.set_level(av.logging.WARNING)
    try:
        with av.logging.Capture(local=False) as logs, av.open(io.BytesIO(video)) as container:
            for _ in container.decode(video=0):
                pass
    finally:
        av.logging.set_level(None)
    return [message for level, _, message in logs if level <= av.logging.WARNING]


@pytest.mark.parametrize(
    ("fields", "size", "fps", "frames"),
    [
        ({"resolution": "1080p", "aspect_ratio": "16:9", "fps": 48, "duration": 5}, (1920, 1080), 48, 240),
        ({"resolution": "1080p", "duration": 5}, (1920, 1080), 24, 120),
        ({"resolution": "720p", "aspect_ratio": "9:16", "fps": 24, "duration": 2}, (720, 1280), 24, 48),
        ({"resolution": "720p", "aspect_ratio": "1:1", "duration": 1}, (720, 720), 24, 24),
    ],
)
def test_a_fast_video_has_the_asked_shape_and_decodes_cleanly(
    fast: Emulator, fields: dict[str, Any], size: tuple[int, int], fps: int, frames: int
) -> None:
    """Width, height, frame rate, frame count and duration as asked; H.264 that FFmpeg decodes without a word."""
    video = httpx.get(_video_url(fast, {"model": "p-video", "prompt": "A fox", **fields})).content
    found = probe(video)
    assert (found["width"], found["height"]) == size
    assert (found["codec"], found["fps"], found["frames"]) == ("h264", fps, frames)
    assert found["duration"] == pytest.approx(frames / fps, abs=0.01)
    assert found["audio"] == 0
    assert _decode_warnings(video) == []
    assert len(video) < frames * 1500  # a kilobyte or so a frame: minimal bitrate


def test_consecutive_pictures_differ_in_idr_pic_id(fast: Emulator) -> None:
    """H.264 requires two IDR pictures in a row to differ in idr_pic_id: the repeated pictures alternate it."""
    video = httpx.get(_video_url(fast, {"model": "p-video", "resolution": "720p", "duration": 1})).content
    av.logging.set_level(av.logging.TRACE)
    try:
        with av.logging.Capture(local=False) as logs, av.open(io.BytesIO(video)) as container:
            stream = container.streams.video[0]
            trace = BitStreamFilterContext("trace_headers", stream)
            for packet in itertools.islice((p for p in container.demux(stream) if p.size), 4):
                trace.filter(packet)
    finally:
        av.logging.set_level(None)
    # One line per slice: "idr_pic_id   010 = 1" (a frame may have several slices, with one id).
    ids = [int(message.rsplit("=", 1)[1]) for _, _, message in logs if " idr_pic_id " in f" {message}"]
    per_frame = [ids[0], *(b for a, b in itertools.pairwise(ids) if a != b)]
    assert per_frame == [0, 1, 0, 1], ids


def test_saved_audio_becomes_a_silent_track_of_the_audio_length(fast: Emulator) -> None:
    """With save_audio and an audio input, the video has an AAC track as long as itself; without, none.

    The audio sets the video's length (3 s, though 2 were asked for), as p-video does.
    """
    fields = {"model": "p-video", "resolution": "720p", "duration": 2, "save_audio": True}
    files = {"audio_file": ("a.wav", wav(3.0), "audio/wav")}
    video = httpx.get(_video_url(fast, fields, files)).content
    with av.open(io.BytesIO(video)) as container:
        (audio,) = container.streams.audio
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(3.0, abs=0.03)
        assert float(container.duration / av.time_base) == pytest.approx(3.0, abs=0.05)
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples == pytest.approx(3 * 44100, abs=1024)
    assert probe(httpx.get(_video_url(fast, {**fields, "save_audio": False}, files)).content)["audio"] == 0


def test_one_render_serves_every_request_of_a_shape(fast: Emulator) -> None:
    """Prompt, picture and draft change nothing in a fast video: one file per shape; a new shape, a new file.

    Each generation still has a URL of its own, as from the real API (an app telling generations
    apart by URL behaves as in production); the file behind it (its ETag) is the shape's.
    (A picture sets the shape, as p-video's does: this one is 16:9, the shape asked for anyway.)
    """
    base = {"model": "p-video", "resolution": "720p", "duration": 3}
    urls = [
        _video_url(fast, {**base, "prompt": "A fox"}),
        _video_url(fast, {**base, "prompt": "A cat", "draft": True}),
        _video_url(
            fast,
            {**base, "prompt": "A dog"},
            {"image_file": ("g.png", png((10, 200, 10), size=(320, 180)), "image/png")},
        ),
    ]
    assert len(set(urls)) == 3

    def etag(url: str) -> str:
        answer = httpx.head(url)
        assert answer.status_code == 200, url
        return answer.headers["etag"]

    same = {etag(url) for url in urls}
    assert len(same) == 1
    assert etag(_video_url(fast, {**base, "duration": 4})) not in same
    assert etag(_video_url(fast, {**base, "aspect_ratio": "9:16"})) not in same


def test_a_fast_video_shows_no_picture(fast: Emulator) -> None:
    """The input picture is checked but not drawn: the frame keeps its plain colour (render="full" draws it)."""
    files = {"image_file": ("green.png", png((10, 200, 10)), "image/png")}
    video = probe(httpx.get(_video_url(fast, {"model": "p-video", "duration": 1}, files)).content)
    center: tuple[int, int, int] = video["center"]  # type: ignore[assignment]
    assert all(abs(found - plain) < 20 for found, plain in zip(center, (55, 35, 95), strict=True)), center


def test_inputs_are_still_checked(fast: Emulator) -> None:
    """Fast rendering skips drawing, not validation: a picture that does not decode is still a 400."""
    files = {"image_file": ("bad.png", b"\x89PNG not really", "image/png")}
    response = _post(fast, {"model": "p-video", "duration": 1}, files)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "image_file"


def test_the_render_mode_is_checked() -> None:
    """A render mode other than fast and full is a ValueError naming both."""
    with pytest.raises(ValueError, match="render must be 'fast' or 'full', not 'quick'"):
        EmulatorConfig(render="quick")  # type: ignore[arg-type]
    assert EmulatorConfig().render == "full"
