"""Small real media files made on the fly: pictures and sounds that FFmpeg and Pillow decode."""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from pathlib import Path

import av
from PIL import Image


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (320, 240)) -> bytes:
    """A solid-colour PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(color: tuple[int, int, int] = (30, 90, 200), size: tuple[int, int] = (320, 240)) -> bytes:
    """A solid-colour JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def noise_png(size: tuple[int, int] = (640, 360), block: int = 8, seed: int = 1) -> bytes:
    """A PNG of random `block`-pixel squares: detail that stronger compression visibly loses."""
    small = (size[0] // block, size[1] // block)
    noise = Image.frombytes("L", small, random.Random(seed).randbytes(small[0] * small[1]))
    buffer = io.BytesIO()
    noise.resize(size, Image.Resampling.NEAREST).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def frame_error(video: bytes, picture: bytes, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference, per channel, between the first frame and a picture, over `box`."""
    with av.open(io.BytesIO(video)) as container:
        frame = next(container.decode(video=0)).to_image().crop(box)
    reference = Image.open(io.BytesIO(picture)).convert("RGB").crop(box)
    a, b = frame.tobytes(), reference.tobytes()
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def wav(seconds: float = 2.0, rate: int = 22050) -> bytes:
    """A mono 16-bit sine-wave WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (int(8000 * math.sin(i * 2 * math.pi * 440 / rate)) for i in range(int(rate * seconds)))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def probe(path: Path | bytes) -> dict[str, object]:
    """Width, height, frame rate, duration and audio presence of a video, as PyAV reads them."""
    source = io.BytesIO(path) if isinstance(path, bytes) else str(path)
    with av.open(source) as container:
        video = container.streams.video[0]
        frames = list(container.decode(video=0))
        middle = frames[len(frames) // 2].to_image()
        return {
            "codec": video.codec_context.name,
            "width": video.width,
            "height": video.height,
            "fps": float(video.average_rate or 0),
            "frames": len(frames),
            "duration": float(container.duration or 0) / 1_000_000,
            "audio": len(container.streams.audio),
            "center": middle.getpixel((video.width // 2, video.height // 2)),
            "caption": middle.crop((0, video.height // 2, video.width, video.height)).tobytes(),
        }
