"""Image and audio inputs: tell URLs from local content, check them, and open them for streaming.

A URL travels as a JSON (or form) field; anything local is uploaded as a multipart file part that
httpx streams from disk in chunks, never read whole into memory.
"""

from __future__ import annotations

import dataclasses
import io
import mimetypes
import os
import re
import stat
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias
from urllib.parse import urlsplit

from ._errors import InvalidParameterError, ParameterTypeError
from ._validate import unicode

MediaInput: TypeAlias = (
    str
    | os.PathLike[str]
    | bytes
    | bytearray
    | memoryview
    | IO[bytes]
    | tuple[str, bytes | bytearray | memoryview | IO[bytes], str]
)
"""An ``image`` or ``audio`` argument: an http(s) URL, a file path, bytes, a binary file object
(open with ``"rb"``), or a ``(filename, content, mime_type)`` tuple whose content is bytes or a
binary file object. A URL is sent as it is; anything local is uploaded, streamed in chunks."""
ALLOWED = "an http(s) URL, a file path, bytes, a binary file object, or a (filename, content, mime_type) tuple"
_SNIFF_BYTES = 64
# type/subtype with optional parameters, nothing that could end the part's header line.
_MIME = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=(\"[^\"\\\x00-\x1f\x7f]*\"|[\w!#$&^.+-]+))*")


class Url(NamedTuple):
    """A remote input, sent as its URL."""

    url: str


@dataclasses.dataclass(frozen=True, slots=True)
class Upload:
    """A local input, uploaded as a multipart file part.

    Attributes:
        filename: The part's filename.
        content: Bytes, or a binary file object read by httpx in chunks (sized when its size is known).
        mime_type: The part's content type.
        owned: True when the SDK opened the file and must close it.
        seekable: False for a stream that cannot be rewound, so cannot be sent twice.
    """

    filename: str
    # Not a named tuple, whose items error trackers would show: the content is the caller's file.
    content: bytes | IO[bytes] | SizedFile = dataclasses.field(repr=False)
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
    unicode(param, value)
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidParameterError(param, "a URL may not contain spaces, line breaks or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise InvalidParameterError(param, f"URL scheme {parts.scheme!r} is not allowed; use http or https")
    if not parts.hostname:
        raise InvalidParameterError(param, f"{value[:80]!r} has no host")
    return Url(value)


def _open_path(param: str, path: Path) -> Upload:
    """Open a regular file for upload; anything else (a FIFO, a device, /proc) is refused before sending."""
    shown = str(path)[:200]
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (nor stall an event loop).
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InvalidParameterError(param, f"no such file: {shown}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidParameterError(param, f"cannot read {shown}: {reason}") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidParameterError(param, f"{shown} is a directory; pass a file")
        if not stat.S_ISREG(info.st_mode):
            raise InvalidParameterError(param, f"{shown} is not a regular file (a FIFO, a device or a socket)")
        if info.st_size == 0:
            raise InvalidParameterError(param, f"{shown} is empty (0 bytes; files under /proc and /sys are too)")
        os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    name = _sendable_name(path.name)
    return Upload(filename=name, content=SizedFile(handle, info.st_size, param), mime_type=_mime(head, name),
                  owned=True)  # fmt: skip


def _sendable_name(name: str) -> str:
    # A name the file system gave may hold undecodable bytes (surrogate escapes): send a readable form.
    return os.fsencode(name).decode("utf-8", "replace")


class SizedFile:
    """A file sent as exactly `size` bytes from its start: a file that shrinks or grows meanwhile fails.

    httpx announces the length it measured before sending; a file that then changes would make the
    body disagree with its ``Content-Length`` and leave the server waiting or the request corrupt.
    Raising mid-body abandons the request before it is complete, so nothing can be generated.
    """

    def __init__(self, raw: IO[bytes], size: int, param: str) -> None:
        self.raw, self.size, self.param, self.sent = raw, size, param, 0

    def read(self, count: int = -1) -> bytes:
        """Up to `count` bytes of what remains of `size`."""
        left = self.size - self.sent
        if left == 0:
            if self.raw.read(1):
                raise self._changed("grew")
            return b""
        data = self.raw.read(left if count < 0 else min(count, left))
        if not data:
            raise self._changed("shrank")
        self.sent += len(data)
        return data

    def _changed(self, how: str) -> InvalidParameterError:
        return InvalidParameterError(
            self.param,
            f"the file {how} while it was being sent ({self.size} bytes when the call began); "
            "the request was abandoned before it was complete, so nothing was generated",
        )

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Rewind to the start (for a retry), or report the size (how httpx measures a body)."""
        if whence == os.SEEK_END and offset == 0:
            return self.size
        if whence != os.SEEK_SET or offset != 0:
            raise io.UnsupportedOperation("only rewinding is supported")
        self.raw.seek(0)
        self.sent = 0
        return 0

    def tell(self) -> int:
        """Bytes sent so far."""
        return self.sent

    def close(self) -> None:
        """Close the underlying file."""
        self.raw.close()


def _file_object(param: str, handle: Any, filename: str | None, mime: str | None) -> Upload:
    if getattr(handle, "closed", False):
        raise InvalidParameterError(param, "the file object is closed")
    if isinstance(handle, io.TextIOBase) or "b" not in getattr(handle, "mode", "b"):
        raise ParameterTypeError(param, "the file object is open in text mode; open it with 'rb'")
    readable = getattr(handle, "readable", None)
    if callable(readable) and not readable():
        raise InvalidParameterError(param, "the file object is not open for reading; open it with 'rb'")
    seekable = bool(getattr(handle, "seekable", lambda: False)())
    head = b""
    content: IO[bytes] | SizedFile = handle
    if seekable:
        # httpx sends a file object from its start (it rewinds it), so its size is all of it.
        position = handle.tell()
        size = handle.seek(0, os.SEEK_END)
        handle.seek(0)
        head = handle.read(_SNIFF_BYTES)
        handle.seek(position)
        if not isinstance(head, bytes):
            raise ParameterTypeError(param, "the file object returns text; open it in binary mode ('rb')")
        if size == 0:
            raise InvalidParameterError(param, "the file object is empty (0 bytes)")
        content = SizedFile(handle, size, param)
    name = _sendable_name(filename or Path(str(getattr(handle, "name", "") or "")).name)
    mime = mime or _mime(head, name)
    return Upload(filename=name or _default_name(param, mime), content=content, mime_type=mime, seekable=seekable)


def _from_tuple(param: str, value: tuple[Any, ...]) -> Upload:
    if len(value) != 3 or not isinstance(value[0], str) or not isinstance(value[2], str):
        raise ParameterTypeError(param, "a tuple must be (filename: str, content, mime_type: str)")
    filename, content, mime = value
    if not _MIME.fullmatch(mime):
        raise InvalidParameterError(param, f"{mime[:60]!r} is not a MIME type such as 'image/png'")
    filename = unicode(param, filename)
    if isinstance(content, bytes | bytearray | memoryview):
        if not content:
            raise InvalidParameterError(param, "the tuple's content is empty (0 bytes)")
        return Upload(filename=filename, content=bytes(content), mime_type=mime)
    if hasattr(content, "read"):
        return _file_object(param, content, filename, mime)
    raise ParameterTypeError(param, "a tuple's content must be bytes or a binary file object")


def _url_like(value: str) -> bool:
    """Whether a string argument is meant as a URL (checked as one), not a path."""
    return "://" in value[:16] or value.lower().startswith(("data:", "mailto:"))


def opens_a_file(value: object) -> bool:
    """Whether :func:`media_input` would open a file for `value` (a path): work for a worker thread on async paths."""
    return isinstance(value, os.PathLike) or (isinstance(value, str) and bool(value) and not _url_like(value))


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
        if _url_like(value):
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
