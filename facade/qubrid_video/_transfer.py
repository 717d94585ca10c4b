"""Every decision of a download, without I/O: what to call the file, where the key goes, what each answer means."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from urllib.parse import unquote, urlsplit

import httpx

from ._config import origin
from ._errors import DownloadError

Progress = Callable[[int, int | None], object]
MAX_RESUMES = 5
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


class Transfer:
    """What has been received of one download, and what to ask for next."""

    def __init__(self, url: str) -> None:
        self.url = url
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
            DownloadError: an error status, or a partial answer that does not continue the file.
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
        return False

    def check_complete(self) -> None:
        """Raise unless the whole announced length arrived."""
        if self.total is not None and self.written != self.total:
            raise DownloadError(f"got {self.written} of {self.total} bytes", url=self.url)
