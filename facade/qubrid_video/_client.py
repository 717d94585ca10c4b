"""The clients: ``Qubrid`` and ``AsyncQubrid``, their construction, copies, pools and send loops.

Everything else is elsewhere: ``client.videos`` (:mod:`._video`) owns the endpoint and hands each
call, a :class:`._call.Call` that decides every step without I/O, to the client's send loop; the
loop only sends the requests and reports what came back. ``client.downloader`` (:mod:`._download`)
is what the videos download with.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Generic, Literal, NoReturn, Self, TypeVar

import httpx

from ._body import aread_body, read_body
from ._call import Call, Wait, redact
from ._config import UNCHANGED, ClientOptions, Timeout, Unchanged, resolve_options
from ._download import AsyncDownloader, Downloader
from ._errors import ParameterTypeError, bare
from ._http import POOL_LANES, Lanes, own_lanes
from ._transfer import ApiKey
from ._video import AsyncVideos, Videos
from ._wire import Attempt, Cutoff, watched

T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _BaseClient(Generic[HttpT]):
    """What both clients share: the constructor, its checks, the copies, the pools they use in turn."""

    _http_type: type[HttpT]
    _lane_count: int
    _lanes: Lanes[HttpT]

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        http_client: HttpT | None = None,
        allow_insecure_http: bool = False,
        retry_possibly_billed: bool = False,
        validate_responses: bool | Literal["strict"] = False,
    ) -> None:
        """Create a client.

        Args:
            api_key: The API key; defaults to the ``QUBRID_API_KEY`` environment variable.
            base_url: The API's base URL; defaults to ``QUBRID_BASE_URL``, else ``https://platform.qubrid.com/v1``.
            timeout: Default limits per call: seconds for the whole call, or a :class:`Timeout`.
            max_retries: Retries for failures that cannot have been billed (0 disables them).
            default_headers: Headers sent with every API request.
            http_client: Your own ``httpx.Client`` (``httpx.AsyncClient`` for :class:`AsyncQubrid`):
                its transport, proxies, limits. You close it.
            allow_insecure_http: Allow an ``http://`` base URL on a host other than loopback.
            retry_possibly_billed: Also retry failures after which the generation may have run
                (500, 504, lost connections, read timeouts). Off: they could cost twice.
            validate_responses: Check every answer against the bundled spec: True emits a
                ``ContractDriftWarning`` on a mismatch, ``"strict"`` raises ``ContractDriftError``.
                Needs the ``contract`` extra.

        Raises:
            InvalidParameterError: no API key, or a base URL that is not http(s) or is insecure.
        """
        options = resolve_options(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                                  default_headers=default_headers, allow_insecure_http=allow_insecure_http,
                                  retry_possibly_billed=retry_possibly_billed,
                                  validate_responses=validate_responses)  # fmt: skip
        http_type = self._http_type
        if http_client is not None and not isinstance(http_client, http_type):
            raise ParameterTypeError("http_client", f"expected an {http_type.__module__}.{http_type.__name__}")
        if http_client is not None:
            lanes = Lanes([http_client])
        else:
            lanes = own_lanes(http_type, options.timeout, self._lane_count)
        self._start(options, lanes, owns_http=http_client is None)

    def with_options(
        self,
        *,
        api_key: str | Unchanged | None = UNCHANGED,
        base_url: str | Unchanged | None = UNCHANGED,
        timeout: float | Timeout | httpx.Timeout | Unchanged | None = UNCHANGED,
        max_retries: int | Unchanged = UNCHANGED,
        default_headers: Mapping[str, str] | Unchanged | None = UNCHANGED,
        allow_insecure_http: bool | Unchanged = UNCHANGED,
        retry_possibly_billed: bool | Unchanged = UNCHANGED,
        validate_responses: bool | Literal["strict"] | Unchanged = UNCHANGED,
    ) -> Self:
        """A copy with some options changed, sharing this client's connection pool.

        Each argument is the constructor's; one not passed keeps this client's value. None means
        what it means to the constructor (``api_key=None``: ``QUBRID_API_KEY``; ``timeout=None``:
        the default limits). ``http_client`` cannot change: the copy uses this client's pool.

        Args:
            api_key: The API key.
            base_url: The API's base URL.
            timeout: Default limits per call: seconds for the whole call, or a :class:`Timeout`.
            max_retries: Retries for failures that cannot have been billed.
            default_headers: Headers sent with every API request (they replace this client's).
            allow_insecure_http: Allow an ``http://`` base URL on a host other than loopback.
            retry_possibly_billed: Also retry failures after which the generation may have run.
            validate_responses: Check every answer against the bundled spec (True or ``"strict"``).

        Raises:
            InvalidParameterError: an option is not allowed, as the constructor would say.
        """
        changes = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": max_retries,
                   "default_headers": default_headers, "allow_insecure_http": allow_insecure_http,
                   "retry_possibly_billed": retry_possibly_billed,
                   "validate_responses": validate_responses}  # fmt: skip
        options = self._options.changed(changes)  # first: a bad option leaves no half-made copy in the frames
        copy = object.__new__(type(self))  # not __init__, which would open pools of its own
        copy._start(options, self._lanes, owns_http=False)
        return copy

    def _start(self, options: ClientOptions, lanes: Lanes[HttpT], *, owns_http: bool) -> None:
        self._options = options
        self._lanes = lanes
        self._owns_http = owns_http
        self._key = ApiKey(options.api_key, options.base_url)  # sent only to the API's own origin

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._options.base_url

    @property
    def timeout(self) -> Timeout:
        """Default time limits for each call."""
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """Retries after a first failed attempt, for failures that cannot have been billed."""
        return self._options.max_retries

    def __repr__(self) -> str:
        if not hasattr(self, "_options"):  # a constructor that raised: tracebacks with locals still show it
            return f"{type(self).__name__}(unconfigured)"
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce__(self) -> NoReturn:
        # A copy in another process would share this one's sockets, or hold the key in a pickle.
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: it holds a connection pool and the API key. Make a "
            f"client in each process instead (in a process pool, in its initializer; {type(self).__name__}() "
            "reads QUBRID_API_KEY and QUBRID_BASE_URL); Video and the SDK's exceptions pickle"
        )


class Qubrid(_BaseClient[httpx.Client]):
    """The Qubrid Video API client. Safe to share across threads.

    Example::

        client = Qubrid()  # QUBRID_API_KEY and QUBRID_BASE_URL from the environment
        video = client.videos.generate(model="p-video", prompt="A butterfly", duration=5)
        video.download("butterfly.mp4")

    Attributes:
        videos: The video generation operation.
        downloader: What this client's videos download with (``Video(..., downloader=...)``).
    """

    videos: Videos
    downloader: Downloader
    _http_type = httpx.Client
    _lane_count = 1

    def _start(self, options: ClientOptions, lanes: Lanes[httpx.Client], *, owns_http: bool) -> None:
        super()._start(options, lanes, owns_http=owns_http)
        self.downloader = Downloader(lanes, key=self._key, timeout=options.timeout)
        self.videos = Videos(self._send, options, self.downloader)

    @property
    def _http(self) -> httpx.Client:
        return self._lanes.next()  # the only one (in a forked child, the child's own)

    def close(self) -> None:
        """Close the connection pool (unless it was passed in, or this is a ``with_options`` copy)."""
        if self._owns_http:
            for lane in self._lanes:
                lane.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, call: Call[T]) -> T:
        """Send `call`'s attempts until it gives its result (or raises)."""
        with call:
            while isinstance(outcome := self._attempt(call), Wait):
                time.sleep(outcome.seconds)
            return outcome

    def _attempt(self, call: Call[T]) -> T | Wait:
        """Send the next request, read the answer, and ask `call` what came of it."""
        http = self._http  # a property: read once (a forked child's first read opens its own pools)
        request = http.build_request(**call.next_request(own_pool=self._lanes.own))
        # Within an Attempt, the SDK's own pools end every socket operation by the deadline; on a
        # client of yours, the Cutoff ends a read still blocked then (a head trickled byte by byte).
        cutoff = Cutoff(None if watched(http) else call.deadline.remaining())
        if cutoff.armed:  # an unarmed cutoff never fires: httpcore's trace hooks would cost ~10 calls for nothing
            request.extensions["trace"] = cutoff.trace
        failed: Exception | None = None
        try:
            with Attempt(call.deadline, http, request) as wire, cutoff:
                response = http.send(request, stream=True)
                try:
                    with cutoff.watching(response):
                        body = read_body(response, call.deadline)
                finally:
                    response.close()
        except (httpx.TransportError, TimeoutError) as exc:
            failed = bare(exc)  # see _unanswered
        if failed is not None:
            return _unanswered(call, failed, request, wire)
        return call.answered(response, body)


class AsyncQubrid(_BaseClient[httpx.AsyncClient]):
    """The Qubrid Video API client for asyncio; thousands of concurrent calls share one pool.

    Its own connections are spread over several pools (``POOL_LANES``), which its generations and
    downloads take in turn; a caller's ``http_client`` is used as given.

    Example::

        async with AsyncQubrid() as client:
            video = await client.videos.generate(model="p-video", prompt="A butterfly")
            await video.download("butterfly.mp4")

    Attributes:
        videos: The video generation operation, awaitable.
        downloader: What this client's videos download with.
    """

    videos: AsyncVideos
    downloader: AsyncDownloader
    _http_type = httpx.AsyncClient
    _lane_count = POOL_LANES

    def _start(self, options: ClientOptions, lanes: Lanes[httpx.AsyncClient], *, owns_http: bool) -> None:
        super()._start(options, lanes, owns_http=owns_http)
        self.downloader = AsyncDownloader(lanes, key=self._key, timeout=options.timeout)
        self.videos = AsyncVideos(self._send, options, self.downloader)

    async def aclose(self) -> None:
        """Close the connection pool (unless it was passed in, or this is a ``with_options`` copy)."""
        if self._owns_http:
            for lane in self._lanes:
                await lane.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call[T]) -> T:
        """Send `call`'s attempts until it gives its result (or raises)."""
        # Imported here: asyncio alone would double `import qubrid_video` for sync users.
        import asyncio  # noqa: PLC0415

        with call:
            while isinstance(outcome := await self._attempt(call), Wait):
                await asyncio.sleep(outcome.seconds)
            return outcome

    async def _attempt(self, call: Call[T]) -> T | Wait:
        """Send the next request on the next pool, read the answer, and ask `call` what came of it.

        The whole attempt is cancelled at the deadline: the async pools cannot shorten each socket
        operation as the sync ones do (see _wire).
        """
        import asyncio  # noqa: PLC0415 - see _send

        http = self._lanes.next()
        request = http.build_request(**call.next_request(own_pool=self._lanes.own))
        failed: Exception | None = None
        try:
            with Attempt(None, http, request) as wire:
                async with asyncio.timeout(max(call.deadline.remaining(), 0)):
                    response = await http.send(request, stream=True)
                    try:
                        body = await aread_body(response)
                    finally:
                        await response.aclose()
        except (httpx.TransportError, TimeoutError) as exc:
            failed = bare(exc)  # see _unanswered
        if failed is not None:
            return _unanswered(call, failed, request, wire)
        return call.answered(response, body)


def _unanswered(call: Call[T], failed: Exception, request: httpx.Request, wire: Attempt) -> T | Wait:
    """Report an attempt that got no answer to `call`, outside the ``except`` block that caught it.

    `failed` is the transport's error as its type and message only (:func:`bare`): the original
    holds the request, and its traceback httpcore's frames, whose copy of the request carries the
    key in clear; raised from inside the ``except`` block, the error reported would keep the
    original as its context.
    """
    redact(request)
    return call.unanswered(failed, wire)
