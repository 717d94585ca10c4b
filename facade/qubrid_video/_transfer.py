"""Every decision of a download, without I/O: what to call the file, what to ask for, what each answer means."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import httpx

from ._errors import DownloadError

Progress = Callable[[int, int | None], object]
MAX_RESUMES = 5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def safe_name(url: str, request_id: str | None) -> str:
    """A file name from the URL's last path segment, with nothing that could leave the directory."""
    segment = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", segment).lstrip("._")[:150]
    if not name:
        name = _UNSAFE.sub("_", f"video-{request_id or 'download'}").strip("._")
    return name if "." in name else f"{name}.mp4"


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
