"""Render a real, playable H.264 MP4 for a request: the input picture, the prompt, optional audio.

Pure CPU work on bytes and one output path, run in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import contextlib
import io
import os
import textwrap
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    # PyAV and Pillow take a quarter of a second to import: loaded on the first render, not with the server.
    import av
    from PIL import Image, ImageFont

AUDIO_RATE = 44100


@attrs.frozen
class RenderJob:
    """Everything the renderer needs; its fields also form the render cache key (see :meth:`cache_fields`)."""

    width: int
    height: int
    fps: int
    duration: int
    text: str
    draft: bool
    image: bytes | None = attrs.field(default=None, repr=False)
    image_label: str | None = None
    audio: bytes | None = attrs.field(default=None, repr=False)
    fast: bool = False

    def cache_fields(self) -> dict[str, object]:
        """What the rendered video depends on: every field, or only its shape for a fast render."""
        if self.fast:
            # A fast render shows neither picture nor prompt: one file serves every job of that shape.
            shape = {"width": self.width, "height": self.height, "fps": self.fps, "duration": self.duration}
            return {**shape, "audio": self.audio is not None, "fast": True}
        return attrs.asdict(self)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont  # noqa: PLC0415 - Pillow loads on the first render

    return ImageFont.load_default(size=size)


def _background(job: RenderJob) -> Image.Image:
    """The still picture every frame starts from: the input image fitted to the frame, or a gradient."""
    from PIL import Image, ImageDraw, ImageOps  # noqa: PLC0415 - Pillow loads on the first render

    size = (job.width, job.height)
    if job.image is not None:
        with Image.open(io.BytesIO(job.image)) as picture:
            return ImageOps.fit(ImageOps.exif_transpose(picture).convert("RGB"), size)
    gradient = Image.linear_gradient("L").resize(size)
    background = ImageOps.colorize(gradient, (20, 30, 70), (90, 40, 120))
    if job.image_label:
        draw = ImageDraw.Draw(background)
        draw.text((job.width // 20, job.height // 20), f"image: {job.image_label}", font=_font(job.height // 30))
    return background


def _caption(picture: Image.Image, text: str) -> None:
    """Draw the prompt in a dark band across the lower part of the picture."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow loads on the first render

    width, height = picture.size
    font_size = max(12, height // 24)
    lines = textwrap.wrap(text, width=max(20, int(width / (font_size * 0.55))))[:4]
    band = Image.new("RGBA", (width, font_size * (len(lines) + 1)), (0, 0, 0, 150))
    top = height - band.height - height // 12
    picture.paste(band, (0, top), band)
    draw = ImageDraw.Draw(picture)
    for index, line in enumerate(lines):
        draw.text((font_size, top + font_size // 2 + index * font_size), line, font=_font(font_size))


def _encode_video(container: av.container.OutputContainer, stream: av.VideoStream, job: RenderJob) -> None:
    import av  # noqa: PLC0415 - PyAV loads on the first render
    from PIL import ImageDraw  # noqa: PLC0415

    still = _background(job)
    _caption(still, job.text)
    total = job.fps * job.duration
    bar_height = max(4, job.height // 90)
    for index in range(total):
        frame_picture = still.copy()
        draw = ImageDraw.Draw(frame_picture)
        # A moving marker and a progress bar: consecutive frames differ, so the video plays visibly.
        x = int((job.width - bar_height * 4) * index / max(1, total - 1))
        draw.rectangle((x, job.height // 10, x + bar_height * 4, job.height // 10 + bar_height * 4), fill=(255, 200, 0))
        draw.rectangle(
            (0, job.height - bar_height, int(job.width * (index + 1) / total), job.height), fill=(255, 255, 255)
        )
        frame = av.VideoFrame.from_image(frame_picture)  # type: ignore[no-untyped-call]
        frame.pts = index
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _encode_audio(container: av.container.OutputContainer, stream: av.AudioStream, job: RenderJob, data: bytes) -> None:
    import av  # noqa: PLC0415 - PyAV loads on the first render

    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    budget = AUDIO_RATE * job.duration
    written = 0
    with av.open(io.BytesIO(data), mode="r") as source:
        for decoded in source.decode(audio=0):
            for frame in resampler.resample(decoded):
                if written >= budget:
                    break
                frame.pts = written
                written += frame.samples
                container.mux(stream.encode(frame))
            if written >= budget:
                break
    container.mux(stream.encode(None))


@contextlib.contextmanager
def mp4(job: RenderJob, dest: Path, x264: dict[str, str]) -> Iterator[tuple[Any, Any, Any]]:
    """An MP4 for `job` at `dest`: its container, H.264 stream and AAC stream (None without audio).

    Written atomically: to a temporary file, renamed into place once the container is closed whole.
    """
    import av  # noqa: PLC0415 - PyAV loads on the first render

    partial = dest.with_name(f".{dest.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        with av.open(str(partial), "w", format="mp4") as container:
            # Every stream is declared before the first packet is written, as the MP4 muxer requires.
            video = container.add_stream("libx264", rate=Fraction(job.fps))
            video.width, video.height, video.pix_fmt = job.width, job.height, "yuv420p"
            video.options = dict(x264)
            audio = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if job.audio is not None else None
            yield container, video, audio
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)


def render(job: RenderJob, dest: Path) -> None:
    """Write the video for `job` to `dest`, atomically (a temporary file renamed into place)."""
    # Draft trades quality for speed, as the real service's preview mode does.
    x264 = {"preset": "ultrafast", "crf": "40"} if job.draft else {"preset": "veryfast", "crf": "23"}
    with mp4(job, dest, x264) as (container, video, audio):
        _encode_video(container, video, job)
        if audio is not None and job.audio is not None:
            _encode_audio(container, audio, job, job.audio)
