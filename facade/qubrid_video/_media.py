"""Image and audio inputs: tell URLs from local content, check them, and open them for streaming.

A URL travels as a JSON (or form) field; anything local is uploaded as a multipart file part that
httpx streams from disk in chunks, never read whole into memory.
"""

from __future__ import annotations

import io
import mimetypes
import os
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import attrs

from ._errors import InvalidParameterError, ParameterTypeError

MediaInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | tuple[str, Any, str]
ALLOWED = "an http(s) URL, a file path, bytes, a binary file object, or a (filename, content, mime_type) tuple"
_SNIFF_BYTES = 64


@attrs.frozen
class Url:
    """A remote input, sent as its URL."""

    url: str


@attrs.frozen
class Upload:
    """A local input, uploaded as a multipart file part.

    Attributes:
        filename: The part's filename.
        content: Bytes, or a binary file object read by httpx in chunks.
        mime_type: The part's content type.
        owned: True when the SDK opened the file and must close it.
        seekable: False for a stream that cannot be rewound, so cannot be sent twice.
    """

    filename: str
    content: bytes | IO[bytes] = attrs.field(repr=False)
    mime_type: str
    owned: bool = False
    seekable: bool = True

    def close(self) -> None:
        """Close the file if the SDK opened it."""
        if self.owned and not isinstance(self.content, bytes):
            self.content.close()


Media = Url | Upload


def sniff_mime(head: bytes) -> str | None:
    """The MIME type announced by a file's first bytes, for the image and audio formats in use."""
    signatures: list[tuple[bytes, int, str]] = [
        (b"\xff\xd8\xff", 0, "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
        (b"GIF87a", 0, "image/gif"),
        (b"GIF89a", 0, "image/gif"),
        (b"BM", 0, "image/bmp"),
        (b"II*\x00", 0, "image/tiff"),
        (b"MM\x00*", 0, "image/tiff"),
        (b"ID3", 0, "audio/mpeg"),
        (b"OggS", 0, "audio/ogg"),
        (b"fLaC", 0, "audio/flac"),
    ]
    for magic, offset, mime in signatures:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        if brand == b"avif":
            return "image/avif"
        if brand.startswith(b"M4A"):
            return "audio/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    return None


def _mime(head: bytes, filename: str) -> str:
    return sniff_mime(head) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _default_name(param: str, mime: str) -> str:
    extension = mimetypes.guess_extension(mime) or ".bin"
    return f"{param}{extension}"


def _check_url(param: str, value: str) -> Url:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise InvalidParameterError(param, f"URL scheme {parts.scheme!r} is not allowed; use http or https")
    if not parts.hostname:
        raise InvalidParameterError(param, f"{value[:80]!r} has no host")
    return Url(value)


def _open_path(param: str, path: Path) -> Upload:
    if not path.exists():
        raise InvalidParameterError(param, f"no such file: {str(path)[:200]}")
    if path.is_dir():
        raise InvalidParameterError(param, f"{str(path)[:200]} is a directory; pass a file")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidParameterError(param, f"cannot read {str(path)[:200]}: {exc.strerror}") from None
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    return Upload(filename=path.name, content=handle, mime_type=_mime(head, path.name), owned=True)


def _file_object(param: str, handle: Any, filename: str | None, mime: str | None) -> Upload:
    if isinstance(handle, io.TextIOBase) or "b" not in getattr(handle, "mode", "b"):
        raise ParameterTypeError(param, "the file object is open in text mode; open it with 'rb'")
    seekable = bool(getattr(handle, "seekable", lambda: False)())
    head = b""
    if seekable:
        position = handle.tell()
        head = handle.read(_SNIFF_BYTES)
        handle.seek(position)
        if not isinstance(head, bytes):
            raise ParameterTypeError(param, "the file object returns text; open it in binary mode ('rb')")
    name = filename or Path(str(getattr(handle, "name", "") or "")).name
    mime = mime or _mime(head, name)
    return Upload(filename=name or _default_name(param, mime), content=handle, mime_type=mime, seekable=seekable)


def _from_tuple(param: str, value: tuple[Any, ...]) -> Upload:
    if len(value) != 3 or not isinstance(value[0], str) or not isinstance(value[2], str):
        raise ParameterTypeError(param, "a tuple must be (filename: str, content, mime_type: str)")
    filename, content, mime = value
    if isinstance(content, bytes | bytearray | memoryview):
        return Upload(filename=filename, content=bytes(content), mime_type=mime)
    if hasattr(content, "read"):
        return _file_object(param, content, filename, mime)
    raise ParameterTypeError(param, "a tuple's content must be bytes or a binary file object")


def media_input(param: str, value: object) -> Media | None:
    """Classify and check one image/audio argument.

    Raises:
        InvalidParameterError: a URL with another scheme, a missing path, a directory, an unreadable file.
        ParameterTypeError: a value of none of the accepted kinds, or a text-mode file object.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise InvalidParameterError(param, f"empty string; expected {ALLOWED}")
        if "://" in value[:16] or value.lower().startswith(("data:", "mailto:")):
            return _check_url(param, value)
        return _open_path(param, Path(value))
    if isinstance(value, os.PathLike):
        return _open_path(param, Path(os.fspath(value)))
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if not data:
            raise InvalidParameterError(param, "empty bytes")
        mime = _mime(data[:_SNIFF_BYTES], "")
        return Upload(filename=_default_name(param, mime), content=data, mime_type=mime)
    if isinstance(value, tuple):
        return _from_tuple(param, value)
    if hasattr(value, "read"):
        return _file_object(param, value, None, None)
    raise ParameterTypeError(param, f"got {type(value).__name__}; expected {ALLOWED}")
