"""The clients: ``Qubrid`` and ``AsyncQubrid`` are thin I/O mirrors over ``_BaseClient``'s decisions."""

from __future__ import annotations

import logging
import time
import warnings
from types import TracebackType
from typing import Any, Literal, NoReturn, Self

import attrs
import httpx

from ._body import ACCEPT_ENCODING, aread_body, keep_body, read_body
from ._config import ClientOptions, Deadline, Timeout, coerce_timeout, resolve_options
from ._contract import ContractDriftWarning, contract_drift
from ._download import AsyncDownloader, Downloader
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ContractDriftError,
    ParameterTypeError,
    ResponseValidationError,
)
from ._http import POOL_LANES, Lanes, new_pool
from ._request import GenerateParams, PreparedRequest, merge_headers, prepare
from ._response import GeneratedVideo, parse_success, status_error
from ._retry import SAFE_TRANSPORT_ERRORS, closed_while_idle, next_wait
from ._transfer import ApiKey
from ._video import AsyncVideo, Video
from ._wire import Attempt

logger = logging.getLogger("qubrid_video")
_REDACTED = "Bearer [redacted]"


def _redact(request: httpx.Request | None) -> None:
    """Blank the key in a request that has been sent, so responses and errors never carry it."""
    if request is not None and "authorization" in request.headers:
        request.headers["authorization"] = _REDACTED


def _request_of(exc: Exception) -> httpx.Request | None:
    try:
        return exc.request if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # httpx raises when the error was made without a request
        return None


class _BaseClient:
    """Configuration and every decision that needs no I/O, shared by both clients."""

    _options: ClientOptions

    def _configure(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | Timeout | httpx.Timeout | None,
        max_retries: int,
        default_headers: dict[str, str] | None,
        allow_insecure_http: bool,
        retry_possibly_billed: bool,
        validate_responses: bool | str,
        http_client: object,
        http_type: type[httpx.Client] | type[httpx.AsyncClient],
    ) -> None:
        self._options = resolve_options(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            allow_insecure_http=allow_insecure_http,
            retry_possibly_billed=retry_possibly_billed,
            validate_responses=validate_responses,
        )
        if http_client is not None and not isinstance(http_client, http_type):
            raise ParameterTypeError("http_client", f"expected an {http_type.__module__}.{http_type.__name__}")
        self._owns_http = http_client is None

    def _key(self) -> ApiKey:
        """The key as the downloads carry it: sent only to the API's own origin."""
        return ApiKey(self._options.api_key, self._options.base_url)

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
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} holds a connection pool and an API key; it cannot be pickled")

    def _changed(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments for a copy with `changes`; unknown names are a TypeError, as in a call."""
        return attrs.asdict(self._options.changed(changes), recurse=False)

    # One generation call.

    def _prepare(
        self, params: GenerateParams, timeout: object, extra_headers: object
    ) -> tuple[PreparedRequest, Timeout]:
        limits = coerce_timeout("timeout", timeout, self._options.timeout)
        return prepare(params, extra_headers), limits

    def _request_kwargs(self, prepared: PreparedRequest, deadline: Deadline, limits: Timeout) -> dict[str, Any]:
        kwargs = {**prepared.body, "method": "POST", "url": self._options.base_url + "/videos/generations"}
        # Yours win over the SDK's, per call over client-wide; each name is sent once (see merge_headers).
        # Accept-Encoding is the SDK's alone (a reserved name): only what _body can undo within its cap.
        kwargs["headers"] = merge_headers(
            {"Accept-Encoding": ACCEPT_ENCODING, "Authorization": f"Bearer {self._options.api_key}"},
            self._options.default_headers,
            prepared.headers,
        )
        kwargs["timeout"] = limits.for_attempt(deadline.remaining())
        return kwargs

    def _after_response(
        self, prepared: PreparedRequest, response: httpx.Response, body: bytes, retries: int, deadline: Deadline
    ) -> GeneratedVideo | float:
        """The video, or seconds to wait before retrying; raises the error to report otherwise."""
        _redact(response.request)
        keep_body(response, body)
        self._log(
            prepared, retries, deadline, status=response.status_code, request_id=response.headers.get("x-request-id")
        )
        if self._options.validate_responses:
            self._check_contract(response, body)
        error: APIError
        if response.status_code == 200:
            try:
                return parse_success(response, body)
            except ResponseValidationError as exc:
                error = exc
        else:
            error = status_error(response, body)
        wait = next_wait(
            self._options.retry,
            retries,
            deadline.remaining(),
            status=response.status_code,
            headers=response.headers,
            resendable=prepared.resendable,
        )
        if wait is None:
            raise error
        return wait

    def _check_contract(self, response: httpx.Response, body: bytes) -> None:
        """Warn (or raise, in strict mode) when the answer departs from the bundled spec."""
        mismatches = contract_drift(response, body)
        if not mismatches:
            return
        summary = f"HTTP {response.status_code} answer departs from the API contract: " + "; ".join(mismatches)
        if self._options.validate_responses == "strict":
            raise ContractDriftError(summary, mismatches=mismatches, request_id=response.headers.get("x-request-id"))
        warnings.warn(ContractDriftWarning(summary), stacklevel=5)

    def _after_transport_error(
        self, prepared: PreparedRequest, exc: Exception, retries: int, deadline: Deadline, wire: Attempt
    ) -> float:
        """Seconds to wait before retrying after no answer came; raises the error to report otherwise."""
        _redact(_request_of(exc))
        self._log(prepared, retries, deadline, failure=type(exc).__name__)
        wait = next_wait(self._options.retry, retries, deadline.remaining(), error=exc, resendable=prepared.resendable)
        if wait is None:
            raise self._connection_error(exc, deadline, wire) from exc
        return wait

    def _resend_at_once(self, prepared: PreparedRequest, exc: Exception, wire: Attempt, deadline: Deadline) -> bool:
        """Whether to resend now, outside the retry budget: the request never reached the API.

        It went out on a pooled connection the server had closed while idle (see closed_while_idle).
        """
        stale = closed_while_idle(exc, reused=wire.reused, received=wire.received, since_write=wire.since_write())
        if not stale or not prepared.resendable or deadline.remaining() <= 0:
            return False
        _redact(_request_of(exc))
        logger.debug("POST /videos/generations: %s on a connection the server had closed while idle; resending",
                     type(exc).__name__)  # fmt: skip
        return True

    def _connection_error(self, exc: Exception, deadline: Deadline, wire: Attempt) -> APIConnectionError:
        host = httpx.URL(self._options.base_url).host
        uncertain = not isinstance(exc, SAFE_TRANSPORT_ERRORS) and not wire.unsent
        if isinstance(exc, httpx.TimeoutException | TimeoutError) or deadline.remaining() <= 0:
            what = "the call's deadline passed" if deadline.remaining() <= 0 else f"{type(exc).__name__}"
            return APITimeoutError(f"timed out talking to {host}: {what}", may_have_generated=uncertain)
        if uncertain:
            return APIConnectionError(
                f"the connection to {host} was lost after the request was sent ({type(exc).__name__})",
                may_have_generated=True,
            )
        return APIConnectionError(f"could not connect to {host} ({type(exc).__name__})")

    def _log(
        self,
        prepared: PreparedRequest,
        retries: int,
        deadline: Deadline,
        *,
        status: int | None = None,
        request_id: str | None = None,
        failure: str | None = None,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = deadline.seconds - deadline.remaining()
            logger.debug(
                "POST /videos/generations attempt=%d status=%s request_id=%s idempotency_key=%s elapsed=%.2fs%s",
                retries + 1, status, request_id, prepared.idempotency_key, elapsed,
                f" failure={failure}" if failure else "",
            )  # fmt: skip


class Videos:
    """``client.videos``: the video generation operation."""

    def __init__(self, client: Qubrid) -> None:
        self._client = client

    def generate(
        self,
        *,
        model: str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        fps: int | None = None,
        aspect_ratio: str | None = None,
        image: Any = None,
        audio: Any = None,
        draft: bool | None = None,
        save_audio: bool | None = None,
        prompt_upsampling: bool | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Video:
        """Generate a video and wait for it (this can take minutes).

        Arguments left as None are not sent: the API's defaults apply.

        Args:
            model: The video model, e.g. ``"p-video"``.
            prompt: What the video shows.
            duration: Length in seconds (a positive whole number).
            resolution: Output resolution, e.g. ``"720p"``.
            fps: Frames per second (a positive whole number).
            aspect_ratio: e.g. ``"16:9"``.
            image: Input image: an http(s) URL, a path, bytes, a binary file object, or a
                ``(filename, content, mime_type)`` tuple. Anything local is uploaded, streamed.
            audio: Input audio, in the same forms as `image`.
            draft: Generate a faster, lower-quality preview.
            save_audio: Keep the input audio in the video.
            prompt_upsampling: Let the API expand the prompt.
            timeout: This call's time limits: seconds for the whole call, or a :class:`Timeout`.
            extra_headers: More headers for this call (an ``Idempotency-Key`` here replaces the SDK's).

        Returns:
            The video: its URL, creation time and request id, and ``download()``.

        Raises:
            InvalidParameterError: an argument is not allowed (nothing was sent).
            APIStatusError: the API answered an error (a subclass per status).
            APIConnectionError: no answer (``APITimeoutError`` for timeouts).
            ResponseValidationError: a 200 without a usable video URL.
        """
        params = GenerateParams(model=model, prompt=prompt, duration=duration, resolution=resolution, fps=fps,
                                aspect_ratio=aspect_ratio, image=image, audio=audio, draft=draft,
                                save_audio=save_audio, prompt_upsampling=prompt_upsampling)  # fmt: skip
        return self._client._generate(params, timeout, extra_headers)


class AsyncVideos:
    """``client.videos``: the video generation operation, awaitable."""

    def __init__(self, client: AsyncQubrid) -> None:
        self._client = client

    async def generate(
        self,
        *,
        model: str,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        fps: int | None = None,
        aspect_ratio: str | None = None,
        image: Any = None,
        audio: Any = None,
        draft: bool | None = None,
        save_audio: bool | None = None,
        prompt_upsampling: bool | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> AsyncVideo:
        """Generate a video and wait for it (this can take minutes). See :meth:`Videos.generate`.

        Args:
            model: The video model, e.g. ``"p-video"``.
            prompt: What the video shows.
            duration: Length in seconds (a positive whole number).
            resolution: Output resolution, e.g. ``"720p"``.
            fps: Frames per second (a positive whole number).
            aspect_ratio: e.g. ``"16:9"``.
            image: Input image: URL, path, bytes, binary file object or (filename, content, mime_type).
            audio: Input audio, in the same forms as `image`.
            draft: Generate a faster, lower-quality preview.
            save_audio: Keep the input audio in the video.
            prompt_upsampling: Let the API expand the prompt.
            timeout: This call's time limits: seconds for the whole call, or a :class:`Timeout`.
            extra_headers: More headers for this call.

        Returns:
            The video: its URL, creation time and request id, and an awaitable ``download()``.

        Raises:
            InvalidParameterError: an argument is not allowed (nothing was sent).
            APIStatusError: the API answered an error (a subclass per status).
            APIConnectionError: no answer (``APITimeoutError`` for timeouts).
            ResponseValidationError: a 200 without a usable video URL.
        """
        params = GenerateParams(model=model, prompt=prompt, duration=duration, resolution=resolution, fps=fps,
                                aspect_ratio=aspect_ratio, image=image, audio=audio, draft=draft,
                                save_audio=save_audio, prompt_upsampling=prompt_upsampling)  # fmt: skip
        return await self._client._generate(params, timeout, extra_headers)


class Qubrid(_BaseClient):
    """The Qubrid Video API client. Safe to share across threads.

    Example::

        client = Qubrid()  # QUBRID_API_KEY and QUBRID_BASE_URL from the environment
        video = client.videos.generate(model="p-video", prompt="A butterfly", duration=5)
        video.download("butterfly.mp4")
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
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
            http_client: Your own ``httpx.Client`` (its transport, proxies, limits); you close it.
            allow_insecure_http: Allow an ``http://`` base URL on a host other than loopback.
            retry_possibly_billed: Also retry failures after which the generation may have run
                (500, 504, lost connections, read timeouts). Off: they could cost twice.
            validate_responses: Check every answer against the bundled spec: True emits a
                ``ContractDriftWarning`` on a mismatch, ``"strict"`` raises ``ContractDriftError``.
                Needs the ``contract`` extra.

        Raises:
            InvalidParameterError: no API key, or a base URL that is not http(s) or is insecure.
        """
        self._configure(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                        default_headers=default_headers, allow_insecure_http=allow_insecure_http,
                        retry_possibly_billed=retry_possibly_billed, validate_responses=validate_responses,
                        http_client=http_client,
                        http_type=httpx.Client)  # fmt: skip
        self._http = http_client if http_client is not None else new_pool(httpx.Client, self._options.timeout)
        self.downloader = Downloader(self._http, key=self._key(), timeout=self._options.timeout)
        self.videos = Videos(self)

    def with_options(self, **changes: Any) -> Qubrid:
        """A copy with some options changed, sharing this client's connection pool.

        Args:
            **changes: Any constructor option but ``http_client``.
        """
        return Qubrid(**self._changed(changes), http_client=self._http)

    def close(self) -> None:
        """Close the connection pool (unless it was passed in, or this is a ``with_options`` copy)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _generate(self, params: GenerateParams, timeout: object, extra_headers: object) -> Video:
        prepared, limits = self._prepare(params, timeout, extra_headers)
        deadline = Deadline(limits.total)
        retries, resent = 0, False
        try:
            while True:
                request = self._http.build_request(**self._request_kwargs(prepared, deadline, limits))
                try:
                    with Attempt(deadline, self._http, request) as wire:  # every socket operation ends by the deadline
                        response = self._http.send(request, stream=True)
                        try:
                            body = read_body(response, deadline)
                        finally:
                            response.close()
                except (httpx.TransportError, TimeoutError) as exc:
                    if not resent and self._resend_at_once(prepared, exc, wire, deadline):
                        resent = True
                        continue
                    wait = self._after_transport_error(prepared, exc, retries, deadline, wire)
                else:
                    outcome = self._after_response(prepared, response, body, retries, deadline)
                    if isinstance(outcome, GeneratedVideo):
                        return Video(outcome.url, outcome.created, outcome.request_id, response, self.downloader)
                    wait = outcome
                time.sleep(wait)
                retries += 1
        finally:
            prepared.close()


class AsyncQubrid(_BaseClient):
    """The Qubrid Video API client for asyncio; thousands of concurrent calls share one pool.

    Example::

        async with AsyncQubrid() as client:
            video = await client.videos.generate(model="p-video", prompt="A butterfly")
            await video.download("butterfly.mp4")
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
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
            http_client: Your own ``httpx.AsyncClient``; you close it.
            allow_insecure_http: Allow an ``http://`` base URL on a host other than loopback.
            retry_possibly_billed: Also retry failures after which the generation may have run.
            validate_responses: Check answers against the bundled spec (True: warn, "strict": raise).

        Raises:
            InvalidParameterError: no API key, or a base URL that is not http(s) or is insecure.
        """
        self._configure(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                        default_headers=default_headers, allow_insecure_http=allow_insecure_http,
                        retry_possibly_billed=retry_possibly_billed, validate_responses=validate_responses,
                        http_client=http_client,
                        http_type=httpx.AsyncClient)  # fmt: skip
        # Its own connections are spread over POOL_LANES pools (see _http), which its generations and
        # downloads take in turn; a caller's client is used as given.
        if http_client is not None:
            self._lanes = Lanes([http_client])
        else:
            self._lanes = Lanes(new_pool(httpx.AsyncClient, self._options.timeout) for _ in range(POOL_LANES))
        self._http = next(iter(self._lanes))
        self.downloader = AsyncDownloader(self._lanes, key=self._key(), timeout=self._options.timeout)
        self.videos = AsyncVideos(self)

    def with_options(self, **changes: Any) -> AsyncQubrid:
        """A copy with some options changed, sharing this client's connection pool.

        Args:
            **changes: Any constructor option but ``http_client``.
        """
        copy = AsyncQubrid(**self._changed(changes), http_client=self._http)
        copy._lanes = self._lanes  # share every pool, not just the first
        copy.downloader = AsyncDownloader(self._lanes, key=copy._key(), timeout=copy.timeout)
        return copy

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

    async def _generate(self, params: GenerateParams, timeout: object, extra_headers: object) -> AsyncVideo:
        prepared, limits = self._prepare(params, timeout, extra_headers)
        # Imported here: asyncio alone would double `import qubrid_video` for sync users.
        import asyncio  # noqa: PLC0415

        deadline = Deadline(limits.total)
        retries, resent = 0, False
        try:
            while True:
                http = self._lanes.next()
                request = http.build_request(**self._request_kwargs(prepared, deadline, limits))
                try:
                    with Attempt(None, http, request) as wire:
                        async with asyncio.timeout(max(deadline.remaining(), 0)):
                            response = await http.send(request, stream=True)
                            try:
                                body = await aread_body(response)
                            finally:
                                await response.aclose()
                except (httpx.TransportError, TimeoutError) as exc:
                    if not resent and self._resend_at_once(prepared, exc, wire, deadline):
                        resent = True
                        continue
                    wait = self._after_transport_error(prepared, exc, retries, deadline, wire)
                else:
                    outcome = self._after_response(prepared, response, body, retries, deadline)
                    if isinstance(outcome, GeneratedVideo):
                        return AsyncVideo(outcome.url, outcome.created, outcome.request_id, response, self.downloader)
                    wait = outcome
                await asyncio.sleep(wait)
                retries += 1
        finally:
            prepared.close()
