"""Every decision of a download, without I/O: its options, the key's reach, each answer, each retry.

:class:`Plan` holds the checked options and decides, hop by hop, whether the key goes along.
:class:`Tries` counts the attempts and keeps the failure of each. :class:`Transfer` judges each
answer: a body starting the file, the rest of it, or a resume that belongs to another version of
the file (which starts the file over). It refuses what would save a file that cannot be verified:
a body compressed although identity was asked for, a body with neither a length nor chunked
framing, more bytes than the answer announced or than ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TypeAlias

import httpx

from . import _validate
from ._config import REDACTED, Deadline, Timeout, coerce_timeout, origin
from ._errors import FIELD_LIMIT, DownloadError, _one_line, bare

Progress: TypeAlias = Callable[[int, int | None], object]
"""A download's progress callback: called as ``progress(bytes_done, bytes_total_or_None)`` after
each chunk (the total is None when the server does not say); what it returns is ignored."""
MAX_RESUMES = 5
MAX_REDIRECTS = 10
DEFAULT_MAX_BYTES = 8 * 2**30  # 8 GiB: far above any generated video, far below a full disk
# read() keeps the whole video in memory: a body without a length that runs on must end well
# before it takes a machine's memory, while still far above any generated video (tens of MB).
DEFAULT_READ_MAX_BYTES = 2 * 2**30
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_MAX_PORT = 65535


class ApiKey(httpx.Auth):
    """The API key as an httpx auth flow: no plain header dict holding it sits in the download's frames.

    Its repr never shows the key, and once a request has been answered (or has failed) its
    Authorization header is redacted, so a request kept by a response or an error holds no key.
    """

    def __init__(self, key: str, base_url: str) -> None:
        self._key = key
        self.origin: tuple[str, str, int | None] = origin(base_url)

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
            request.headers["Authorization"] = REDACTED


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """One download, checked: where from and to, how, within which limits, and the key if any.

    Attributes:
        url: The video's URL, as given (errors carry it so).
        address: The same URL, parsed.
        target: The absolute path of the file to write; None when the bytes stay in memory
            (``read()``) or are handed on as they arrive (``iter_bytes()``).
        overwrite: Replace an existing file.
        progress: Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.
        timeout: ``total`` bounds the whole download, resumes and redirects included.
        max_bytes: The most bytes the video may have.
        chunk_size: The size of each chunk handed on (the last may be shorter); None: as they arrive.
        key: The API key, sent while the download stays on the API's own origin; None never sends it.
    """

    url: str
    address: httpx.URL
    target: Path | None
    overwrite: bool
    progress: Progress | None
    timeout: Timeout
    max_bytes: int
    chunk_size: int | None
    key: ApiKey | None = dataclasses.field(repr=False)  # a class, not a named tuple: see ClientOptions

    def first_hop(self) -> tuple[httpx.URL, bool]:
        """The URL to ask first, and whether the key goes with it."""
        return self.address, self.key is not None and self.key.covers(self.address)

    def next_hop(self, url: httpx.URL, keyed: bool) -> tuple[httpx.URL, bool]:
        """A redirect's URL, and whether the key goes with it: only while every hop stays on the API's origin."""
        return url, keyed and self.key is not None and self.key.covers(url)


def check_options(
    *,
    progress: object,
    timeout: object,
    max_bytes: object,
    default: Timeout,
    overwrite: object = False,
    chunk_size: object = None,
) -> tuple[bool, Progress | None, Timeout, int, int | None]:
    """Check a download's options, as they are to be used (in :class:`Plan`'s order).

    `overwrite` is ``download()``'s, `chunk_size` ``iter_bytes()``'s.

    Raises:
        InvalidParameterError: a timeout, max_bytes or chunk_size that is not positive
            (``ParameterTypeError`` for one of the wrong type, or for a non-bool `overwrite` or
            a non-callable `progress`).
    """
    return (
        bool(_validate.flag("overwrite", overwrite)),
        _validate.callback("progress", progress),
        coerce_timeout("timeout", timeout, default),
        _validate.whole("max_bytes", max_bytes, unit="bytes"),
        None if chunk_size is None else _validate.whole("chunk_size", chunk_size, unit="bytes"),
    )


def video_url(url: str) -> httpx.URL:
    """The video's URL, parsed.

    Raises:
        DownloadError: it is not a valid http(s) URL.
    """
    parsed: httpx.URL | None = None
    with contextlib.suppress(httpx.InvalidURL):
        parsed = httpx.URL(url)
    if parsed is None:  # raised here, not while handling InvalidURL, whose frames hold a half-made URL
        raise DownloadError("the video URL is not a valid URL", url=url)
    _check_usable(parsed, url, "the video URL")
    return parsed


def _check_usable(url: httpx.URL, video: str, what: str) -> None:
    """Refuse a URL no download can use: not http(s), no host, or a port no socket can reach.

    httpx parses any port number; connecting to one past 65535 raises an OverflowError from the
    socket layer (an ExceptionGroup on asyncio), not a network error.
    """
    if url.scheme not in ("http", "https") or not url.host:
        raise DownloadError(f"{what} is not http(s): {_one_line(str(url), FIELD_LIMIT)}", url=video)
    if url.port is not None and not 0 < url.port <= _MAX_PORT:
        raise DownloadError(f"{what} is unusable: port {url.port} is out of range (1-{_MAX_PORT})", url=video)


class Start(enum.Enum):
    """What an answer's body is to the file."""

    FRESH = "the whole file: write it from the start"
    RESUME = "the rest of the file: append it"
    AGAIN = "another version of the file: ask again for the whole of it"


class Transfer:
    """What has been received of one download, and what to ask for next."""

    def __init__(self, url: str, max_bytes: int) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.written = 0
        self.total: int | None = None
        # The first answer's ETag (else Last-Modified): the version a resume must continue.
        self.validator: tuple[str, str] | None = None

    def headers(self) -> dict[str, str]:
        """Headers for the next request: a Range continuing the file when resuming is safe.

        Identity encoding keeps byte offsets and Content-Length about the file itself.
        """
        if self.written and self.validator:
            return {"Accept-Encoding": "identity", "Range": f"bytes={self.written}-", "If-Range": self.validator[1]}
        return {"Accept-Encoding": "identity"}

    def redirect(self, response: httpx.Response, hops: int) -> httpx.URL | None:
        """Where a redirect sends the download (its body unread), or None when `response` is no redirect.

        Raises:
            DownloadError: too many redirects, or one to a URL that is not http(s) or has an impossible port.
        """
        if response.next_request is None:
            return None
        if hops >= MAX_REDIRECTS:
            raise DownloadError(f"more than {MAX_REDIRECTS} redirects", url=self.url)
        target = response.next_request.url
        _check_usable(target, self.url, "a redirect's target")
        return target

    def begin(self, response: httpx.Response) -> Start:
        """Judge an answer before its body is read.

        Raises:
            DownloadError: an error status, a partial answer at the wrong offset, or a body that
                could not be verified or is larger than ``max_bytes``.
        """
        status = response.status_code
        if status not in (200, 206) or (status == 206 and not self.written):
            raise DownloadError(f"the video URL answered HTTP {status}", url=self.url, status_code=status)
        self._check_body(response)
        if status == 206:
            return self._resumed(response)
        self.written = 0
        length = response.headers.get("content-length", "")
        self.total = int(length) if length.isdigit() else None
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        self.validator = ("etag", etag) if etag else ("last-modified", modified) if modified else None
        self._check_size(self.total)
        return Start.FRESH

    def _check_body(self, response: httpx.Response) -> None:
        encoding = response.headers.get("content-encoding", "")
        if any(coding.strip().lower() not in ("", "identity") for coding in encoding.split(",")):
            raise DownloadError(
                f"the server sent the video encoded (Content-Encoding: {_one_line(encoding, FIELD_LIMIT)}) "
                "although the SDK asked for it as is", url=self.url,
            )  # fmt: skip
        chunked = "chunked" in response.headers.get("transfer-encoding", "").lower()
        if response.http_version.startswith("HTTP/1") and "content-length" not in response.headers and not chunked:
            # Over HTTP/1 such a body ends when the connection closes: a cut would look like the end.
            raise DownloadError(
                "the server sent neither Content-Length nor chunked encoding, so a body cut short "
                "could not be told from a whole one", url=self.url,
            )  # fmt: skip

    def _check_size(self, total: int | None) -> None:
        if total is not None and total > self.max_bytes:
            raise DownloadError(f"the video is {total} bytes, more than max_bytes={self.max_bytes}", url=self.url)

    def _resumed(self, response: httpx.Response) -> Start:
        described = response.headers.get("content-range", "")
        match = _CONTENT_RANGE.match(described)
        if not match or int(match.group(1)) != self.written:
            raise DownloadError(f"the server resumed at the wrong offset ({_one_line(described, FIELD_LIMIT)})",
                                url=self.url)  # fmt: skip
        total = None if match.group(3) == "*" else int(match.group(3))
        changed = self.total is not None and total != self.total
        if self.validator is not None:
            name, value = self.validator
            changed = changed or response.headers.get(name, value) != value
        if changed:
            # Splicing this onto what came before would make one file of two versions.
            self.written, self.total, self.validator = 0, None, None
            return Start.AGAIN
        if self.total is None:
            self.total = total
            self._check_size(total)
        return Start.RESUME

    def admit(self, size: int) -> None:
        """Refuse `size` more bytes if they would take the file past its announced length, or ``max_bytes``.

        The announced length is the first answer's Content-Length, or a resume's Content-Range
        total; chunked framing, which wins over a Content-Length beside it, could otherwise run on.

        Raises:
            DownloadError: the bytes would go past either.
        """
        if self.total is not None and self.written + size > self.total:
            raise DownloadError(f"the server sent more than the {self.total} bytes it announced", url=self.url)
        if self.written + size > self.max_bytes:
            raise DownloadError(f"the video grew past max_bytes={self.max_bytes}", url=self.url)

    def check_complete(self) -> None:
        """Raise unless the whole announced length arrived."""
        if self.total is not None and self.written != self.total:
            raise DownloadError(f"got {self.written} of {self.total} bytes", url=self.url)


def _permanent(exc: httpx.HTTPError | httpx.InvalidURL) -> str | None:
    """Why retrying cannot help after `exc`, or None when it may (a dropped connection, a timeout)."""
    # httpx builds a redirect's request as soon as the answer arrives, even when not following it.
    # It reports a Location it cannot parse as a RemoteProtocolError raised while handling
    # InvalidURL, and one it parses but cannot join to the URL asked (``http:\\host/x``) as a bare
    # InvalidURL; the video's own URL was checked before the first request.
    if isinstance(exc, httpx.InvalidURL) or (
        isinstance(exc, httpx.RemoteProtocolError) and isinstance(exc.__context__, httpx.InvalidURL)
    ):
        return "an invalid redirect: its Location is not a valid URL"
    if isinstance(exc, httpx.UnsupportedProtocol) or not isinstance(exc, httpx.TransportError):
        return f"the download failed ({type(exc).__name__})"
    return None


class Tries:
    """A download's attempts: whether to make another, and the failure that ended the last one.

    Each attempt runs inside ``with tries:``, which keeps an httpx failure (or an ``InvalidURL``
    from a redirect) as a copy of its type and message only (the original holds the request,
    whose headers held the key, and a traceback whose frames' locals error trackers record),
    instead of raising it. A failure that retrying
    cannot help is raised by :meth:`another`, outside any ``except`` block, so that the original
    is not kept as its context either.
    """

    def __init__(self, url: str, deadline: Deadline) -> None:
        self.url = url
        self.deadline = deadline
        self.made = 0
        self.failure: Exception | None = None
        self._permanent: str | None = None

    def another(self) -> bool:
        """Whether to make another attempt: up to MAX_RESUMES more after a failure, within the deadline.

        Raises:
            DownloadError: the last attempt failed in a way no other attempt can mend.
        """
        if self._permanent is not None:
            raise DownloadError(self._permanent, url=self.url) from self.failure
        if self.made and (self.failure is None or self.made > MAX_RESUMES or self.deadline.remaining() <= 0):
            return False
        self.made += 1
        self.failure = None
        return True

    def __enter__(self) -> Tries:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if not isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
            return False
        self.failure, self._permanent = bare(exc), _permanent(exc)
        return True
