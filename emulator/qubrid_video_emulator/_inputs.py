"""The input image and audio: what they are, whether the model takes them, and what they make of the video.

An image sets the video's shape and audio its length, when the model's catalog entry says so.
Types are judged by the bytes (Pillow's and FFmpeg's own sniffing), not by a file name or a
declared content type, which may say anything; a URL left unfetched is judged by its extension.
"""

from __future__ import annotations

import io
import math
import posixpath
from collections.abc import Callable, Iterable
from typing import TypeAlias, TypeVar
from urllib.parse import urlsplit

import attrs

from ._entry import ModelSpec

# Enough for an 8K picture (33 megapixels); decoding is what costs: 13,000 x 13,000 pixels take 2 GB.
MAX_IMAGE_PIXELS = 40_000_000
_ORIENTATION = 0x0112
_TURNED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_PILLOW_EXTENSIONS = {"JPEG": ("jpg", "jpeg"), "MPO": ("jpg", "jpeg"), "TIFF": ("tif", "tiff")}
# Extensions that name a picture or a sound: an unfetched URL ending in another is not judged.
_KNOWN_EXTENSIONS = {
    "image": {"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "avif", "svg", "ico", "jxl"},
    "audio": {"flac", "mp3", "wav", "ogg", "oga", "opus", "m4a", "aac", "wma", "aif", "aiff", "webm", "mp4"},
}


T = TypeVar("T")
# A check of one input: (model, its bytes or None, its URL or None) -> what it is, or None.
Check: TypeAlias = Callable[[ModelSpec, bytes | None, str | None], T]


@attrs.frozen
class Picture:
    """An input image, decoded once: its type and its size as displayed (EXIF rotation applied)."""

    kind: str
    extensions: tuple[str, ...]
    width: int
    height: int


@attrs.frozen
class Sound:
    """An input audio, decoded up to a limit: its container type and length in seconds."""

    kind: str
    extensions: tuple[str, ...]
    seconds: float


class OtherType(ValueError):
    """A picture of a type other than those asked for, named by its first bytes and never decoded."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"a {kind} picture")
        self.kind = kind
        self.extensions = _PILLOW_EXTENSIONS.get(kind, (kind.lower(),))


def pillow_formats(extensions: Iterable[str]) -> tuple[str, ...]:
    """Pillow's names of the formats these file extensions name (``jpg`` -> ``JPEG``; it opens MPO too)."""
    # Pillow (and PyAV below) load when the first upload is checked, not with the server.
    from PIL import Image  # noqa: PLC0415

    registered = Image.registered_extensions()
    return tuple(sorted({registered[f".{extension}"] for extension in extensions if f".{extension}" in registered}))


def _sniff(data: bytes) -> str | None:
    """The picture type the first bytes announce (Pillow's magic-number checks only: nothing is parsed)."""
    from PIL import Image  # noqa: PLC0415

    Image.init()
    for kind in Image.ID:
        accept = Image.OPEN[kind][1]
        try:
            if accept is not None and accept(data[:64]):
                return kind
        except Exception:  # noqa: S112 - a plugin's check that trips on these bytes says "not mine"
            continue
    return None


def inspect_image(data: bytes, formats: tuple[str, ...] | None = None) -> Picture:
    """Decode the bytes as a picture of at most ``MAX_IMAGE_PIXELS``, of one of Pillow's `formats`.

    Only the plugins of `formats` (all by default) read the bytes: a type the model refuses never
    reaches its decoder (an EPS upload never reaches Ghostscript).

    Raises:
        OtherType: a picture of another type (a ValueError).
        ValueError: not a picture Pillow decodes, or too many pixels.
    """
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    too_big = f"the picture has more than {MAX_IMAGE_PIXELS:,} pixels"
    try:
        # Image.open reads only the header: the size is known before anything is decoded.
        with Image.open(io.BytesIO(data), formats=formats) as picture:
            width, height = picture.size
            if width * height <= MAX_IMAGE_PIXELS:
                if picture.getexif().get(_ORIENTATION) in _TURNED:
                    width, height = height, width
                picture.load()
                kind = picture.format or "unknown"
                extensions = _PILLOW_EXTENSIONS.get(kind, (kind.lower(),))
                return Picture(kind=kind, extensions=extensions, width=width, height=height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own, far higher limits fire inside Image.open (the warning too, where warnings are errors).
        raise ValueError(too_big) from None
    except UnidentifiedImageError:
        sniffed = _sniff(data) if formats is not None else None
        if sniffed is not None and formats is not None and sniffed not in formats:
            raise OtherType(sniffed) from None
        raise ValueError("not a decodable image (UnidentifiedImageError)") from None
    except Exception as exc:
        raise ValueError(f"not a decodable image ({type(exc).__name__})") from None
    raise ValueError(f"{too_big} ({width} x {height})")


def inspect_audio(data: bytes, longest: float) -> Sound:
    """Decode the bytes as audio, measuring at most `longest` seconds of it (the rest is not needed).

    Raises:
        ValueError: FFmpeg finds no decodable audio stream.
    """
    import av  # noqa: PLC0415

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            kind = container.format.name
            seconds, frames = 0.0, 0
            for frame in container.decode(audio=0):
                frames += 1
                seconds += frame.samples / (frame.sample_rate or 1)
                if seconds > longest:
                    break
            if not frames:
                raise ValueError("no audio frame")
    except (av.FFmpegError, ValueError) as exc:
        raise ValueError(f"not decodable audio ({type(exc).__name__})") from None
    # FFmpeg names a container family at once: "mov,mp4,m4a,3gp,3g2,mj2".
    return Sound(kind=kind, extensions=tuple(kind.split(",")), seconds=seconds)


def check_image(spec: ModelSpec, data: bytes | None, url: str | None) -> Picture | None:
    """The input image, decoded and of a type the model takes; None when there are no bytes to read.

    Raises:
        ValueError: not a picture, too large, or of a type the model refuses (an unfetched URL:
            its extension names one).
    """
    if data is None:
        _check_url(url, "image", spec.image_formats, spec.name)
        return None
    try:
        picture = inspect_image(data, pillow_formats(spec.image_formats))
    except OtherType as other:
        _refuse_type(other.extensions, spec.image_formats, str(other), spec.name)
        raise
    _refuse_type(picture.extensions, spec.image_formats, f"a {picture.kind} picture", spec.name)
    return picture


def check_audio(spec: ModelSpec, data: bytes | None, url: str | None) -> Sound | None:
    """The input audio, measured and of a type the model takes; None when there are no bytes to read.

    Raises:
        ValueError: not audio, or of a type the model refuses (an unfetched URL: its extension names one).
    """
    if data is None:
        _check_url(url, "audio", spec.audio_formats, spec.name)
        return None
    # A second past the longest video is enough to know the audio is longer still.
    sound = inspect_audio(data, spec.durations[-1] + 1)
    _refuse_type(sound.extensions, spec.audio_formats, f"{sound.extensions[0]} audio", spec.name)
    return sound


def _refuse_type(extensions: tuple[str, ...], allowed: frozenset[str], what: str, model: str) -> None:
    if not allowed.intersection(extensions):
        raise ValueError(f"{what}; {model} accepts {', '.join(sorted(allowed))}")


def _check_url(url: str | None, kind: str, allowed: frozenset[str], model: str) -> None:
    """Judge an unfetched URL by its path's extension, when that names a picture or a sound."""
    extension = posixpath.splitext(urlsplit(url or "").path)[1].lstrip(".").lower()
    if extension in _KNOWN_EXTENSIONS[kind]:
        _refuse_type((extension,), allowed, f"the URL names a .{extension} file", model)


def frame_size(spec: ModelSpec, resolution: str, aspect_ratio: str, image: Picture | None) -> tuple[int, int]:
    """Width and height in pixels: the resolution names the short side, both even for H.264.

    The shape is the image's when the model takes it from the image, held within the model's
    widest and tallest aspect ratios (beyond them the picture is cropped, as fitting must).
    """
    short = spec.resolutions[resolution]
    if image is not None and spec.image_sets_aspect_ratio:
        ratios = [a / b for a, b in spec.aspect_ratios.values()]
        ratio = min(max(image.width / image.height, min(ratios)), max(ratios))
    else:
        a, b = spec.aspect_ratios[aspect_ratio]
        ratio = a / b
    if ratio >= 1:
        return _even(short * ratio), short
    return short, _even(short / ratio)


def video_seconds(spec: ModelSpec, requested: int, audio: Sound | None) -> int:
    """The video's length: the audio's, rounded to whole seconds within the model's durations, or as asked."""
    if audio is None or not spec.audio_sets_duration:
        return requested
    whole = min(max(math.floor(audio.seconds + 0.5), spec.durations[0]), spec.durations[-1])
    # Among listed durations (not a range), the shortest that holds the audio.
    return next(d for d in spec.durations if d >= whole)


def _even(value: float) -> int:
    return round(value / 2) * 2
