"""Every decision of a download, without I/O: its options, what to call the file, where the key goes, each answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

import attrs
import httpx

from ._config import Timeout, coerce_timeout, origin
from ._errors import DownloadError, InvalidParameterError, ParameterTypeError

Progress = Callable[[int, int | None], object]
MAX_RESUMES = 5
DEFAULT_MAX_BYTES = 8 * 2**30  # 8 GiB: far above any generated video, far below a full disk
_REDACTED = "Bearer [redacted]"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def safe_name(url: str, request_id: str | None) -> str:
    """A file name from the URL's last path segment, with nothing that could leave the directory."""
    segment = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", segment).lstrip("._")[:150]
    if not name:
        name = _UNSAFE.sub("_", f"video-{request_id or 'download'}").strip("._")
    return name if "." in name else f"{name}.mp4"


class ApiKey(httpx.Auth):
    """The API key as an httpx auth flow: no plain header dict holding it sits in the download's frames.

    Its repr never shows the key, and once a request has been answered (or has failed) its
    Authorization header is redacted, so a request kept by a response or an error holds no key.
    """

    def __init__(self, key: str, base_url: str) -> None:
        self._key = key
        self.origin = origin(base_url)

    def __repr__(self) -> str:
        return f"ApiKey([redacted], origin={self.origin!r})"

    def covers(self, url: httpx.URL) -> bool:
        """True when `url` is on the API's own origin: that host has the key already."""
        return origin(url) == self.origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the key to `request`, and redact it again once httpx is done sending it."""
        request.headers["Authorization"] = f"Bearer {self._key}"
        try:
            yield request
        finally:
            request.headers["Authorization"] = _REDACTED


@attrs.frozen
class Plan:
    """One download, checked: where from and to, how, within which limits, and the key if any.

    Attributes:
        url: The video's URL, as given (errors carry it so).
        address: The same URL, parsed.
        target: The absolute path of the file to write.
        overwrite: Replace an existing file.
        progress: Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
        timeout: ``total`` bounds the whole download, resumes and redirects included.
        max_bytes: The most bytes the file may have.
        key: The API key, sent to the API's own origin only; None never sends it.
    """

    url: str
    address: httpx.URL
    target: Path
    overwrite: bool
    progress: Progress | None
    timeout: Timeout
    max_bytes: int
    key: ApiKey | None = attrs.field(repr=False)


def check_options(
    overwrite: object, progress: object, timeout: object, max_bytes: object, default: Timeout
) -> tuple[bool, Progress | None, Timeout, int]:
    """Check a download's options: `overwrite`, `progress`, the time limits and `max_bytes`, as they are to be used.

    Raises:
        InvalidParameterError: a timeout or max_bytes that is not positive (``ParameterTypeError``
            for one of the wrong type, or for a non-bool `overwrite` or a non-callable `progress`).
    """
    if not isinstance(overwrite, bool):
        raise ParameterTypeError("overwrite", f"expected True or False, got {type(overwrite).__name__}")
    if progress is not None and not callable(progress):
        raise ParameterTypeError("progress", "expected a callable progress(done, total) or None")
    limits = coerce_timeout("timeout", timeout, default)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
        raise ParameterTypeError("max_bytes", f"expected a whole number of bytes, got {type(max_bytes).__name__}")
    if max_bytes < 1:
        raise InvalidParameterError("max_bytes", f"must be at least 1 byte, got {max_bytes}")
    return overwrite, cast("Progress | None", progress), limits, max_bytes


class Transfer:
    """What has been received of one download, and what to ask for next."""

    def __init__(self, url: str, max_bytes: int) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.written = 0
        self.total: int | None = None
        self.validator: str | None = None

    def headers(self) -> dict[str, str]:
        """Headers for the next request: a Range continuing the file when resuming is safe.

        Identity encoding keeps byte offsets and Content-Length about the file itself.
        """
        if self.written and self.validator:
            return {"Accept-Encoding": "identity", "Range": f"bytes={self.written}-", "If-Range": self.validator}
        return {"Accept-Encoding": "identity"}

    def begin(self, response: httpx.Response) -> bool:
        """Check an answer; True when its body continues the file, False when it starts it over.

        Raises:
            DownloadError: an error status, a partial answer that does not continue the file, or a
                length over ``max_bytes``.
        """
        status = response.status_code
        if status == 206 and self.written:
            match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if not match or int(match.group(1)) != self.written:
                raise DownloadError(f"the server resumed at the wrong offset ({response.headers.get('content-range')})",
                                    url=self.url)  # fmt: skip
            return True
        if status != 200:
            raise DownloadError(f"the video URL answered HTTP {status}", url=self.url)
        self.written = 0
        length = response.headers.get("content-length", "")
        self.total = int(length) if length.isdigit() else None
        self.validator = response.headers.get("etag") or response.headers.get("last-modified")
        if self.total is not None and self.total > self.max_bytes:
            raise DownloadError(f"the video is {self.total} bytes, more than max_bytes={self.max_bytes}", url=self.url)
        return False

    def admit(self, size: int) -> None:
        """Refuse `size` more bytes if they would take the file past ``max_bytes``."""
        if self.written + size > self.max_bytes:
            raise DownloadError(f"the video grew past max_bytes={self.max_bytes}", url=self.url)

    def check_complete(self) -> None:
        """Raise unless the whole announced length arrived."""
        if self.total is not None and self.written != self.total:
            raise DownloadError(f"got {self.written} of {self.total} bytes", url=self.url)
