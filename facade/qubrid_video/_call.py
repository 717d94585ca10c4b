"""One call of an endpoint, attempt by attempt, without I/O: what to send, and what each outcome means.

A client's send loop asks the :class:`Call` for the next request, sends it, and reports what came
back: :meth:`Call.answered` with the answer and its body, or :meth:`Call.unanswered` with the
transport's error. Each returns the endpoint's result, or a :class:`Wait` before the next attempt,
or raises the error to report. Both clients run the same Call; only their sending differs.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, Self, TypeVar

import httpx

from ._body import ACCEPT_ENCODING, keep_body
from ._config import REDACTED, ClientOptions, Deadline, Timeout
from ._errors import APIConnectionError, APIError, APITimeoutError, ContractDriftError, ResponseValidationError
from ._request import PreparedRequest, merge_headers
from ._response import status_error
from ._retry import Failure, closed_while_idle, next_wait
from ._wire import Attempt
from .contract import ContractDriftWarning, contract_drift

T = TypeVar("T")
logger = logging.getLogger("qubrid_video")


class Endpoint(Generic[T]):
    """An operation of the API: its method and path, and what a 200 from it holds.

    Attributes:
        method: The HTTP method.
        path: The path below the client's base URL.
        parse: Reads a 200 into the operation's result; raises ``ResponseValidationError`` when it cannot.
    """

    __slots__ = ("method", "parse", "path")

    def __init__(self, method: str, path: str, parse: Callable[[httpx.Response, bytes], T]) -> None:
        self.method = method
        self.path = path
        self.parse = parse

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class Wait(NamedTuple):
    """Send the request again after `seconds` (0: at once)."""

    seconds: float


@functools.lru_cache(maxsize=64)
def _url(base_url: str, path: str) -> httpx.URL:
    """The endpoint's URL, parsed once: httpx parses a URL given as a string anew on every request."""
    return httpx.URL(base_url + path)


def redact(request: httpx.Request | None) -> None:
    """Blank the key in a request that has been sent, so that responses and errors never carry it."""
    if request is not None and "authorization" in request.headers:
        request.headers["authorization"] = REDACTED


class Call(Generic[T]):
    """One call: its prepared request, time limits and deadline, and the retries made so far.

    Use it as a context manager: leaving it closes the files the request opened.
    """

    def __init__(
        self, endpoint: Endpoint[T], request: PreparedRequest, limits: Timeout, options: ClientOptions
    ) -> None:
        self.endpoint = endpoint
        self.request = request
        self.limits = limits
        self.deadline = Deadline(limits.total)
        self.retries = 0
        self._options = options
        self._resent = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.request.close()

    def next_request(self, *, own_pool: bool = False) -> dict[str, Any]:
        """Keyword arguments of ``build_request`` for the next attempt, its timeouts within the time left.

        The headers are made anew for each attempt, not kept: a header holding the key would sit in
        this call's attributes, reachable from the frames of any error it raises.

        Args:
            own_pool: The request goes out on a pool the SDK made, which asks for ``ACCEPT_ENCODING``
                by default; on a caller's client, the request asks for it itself.
        """
        # Yours win over the SDK's, per call over client-wide. Accept-Encoding is the SDK's alone
        # (a reserved name): it asks only for what _body can undo within its memory cap.
        key = f"Bearer {self._options.api_key}"
        sdk = {"Authorization": key} if own_pool else {"Accept-Encoding": ACCEPT_ENCODING, "Authorization": key}
        if not self._options.default_headers and len(self.request.headers) == 1:
            headers = {**sdk, **self.request.headers}  # the Idempotency-Key alone: nothing to merge
        else:
            headers = merge_headers(sdk, self._options.default_headers, self.request.headers)
        return {
            **self.request.body,
            "method": self.endpoint.method,
            "url": _url(self._options.base_url, self.endpoint.path),
            "headers": headers,
            "extensions": {"timeout": self.limits.extension(self.deadline.remaining())},
        }

    def answered(self, response: httpx.Response, body: bytes) -> T | Wait:
        """The endpoint's result of a 200, or how long to wait before trying again.

        Raises:
            APIError: the error to report: an error status, a 200 without a usable result, or (in
                strict validation) an answer that departs from the spec.
        """
        redact(response.request)
        keep_body(response, body)
        if logger.isEnabledFor(logging.DEBUG):  # spares a header lookup on every call otherwise
            self._log(status=response.status_code, request_id=response.headers.get("x-request-id"))
        if self._options.validate_responses:
            self._check_contract(response, body)
        error: APIError
        if response.status_code == 200:
            try:
                return self.endpoint.parse(response, body)
            except ResponseValidationError as exc:
                error = exc
            failure = Failure.of_answer(response.status_code, response.headers)
        else:
            failure = Failure.of_answer(response.status_code, response.headers)
            error = status_error(response, body, failure)
        wait = self._retry(failure)
        if wait is None:
            raise error
        return wait

    def unanswered(self, error: Exception, wire: Attempt) -> Wait:
        """How long to wait before sending again, after an attempt that got no answer.

        Args:
            error: The transport's error; it becomes the reported error's cause, so it should
                carry no request nor traceback (see ``_errors.bare``).
            wire: What the attempt did on the wire.

        Raises:
            APIConnectionError: the error to report (``APITimeoutError`` for a timeout or the deadline).
        """
        if self._resend_at_once(error, wire):
            return Wait(0)
        self._log(failure=type(error).__name__)
        failure = Failure.of_error(error)
        wait = self._retry(failure)
        if wait is None:
            raise self._connection_error(error, failure, wire) from error
        return wait

    def _retry(self, failure: Failure) -> Wait | None:
        seconds = next_wait(
            self._options.retry, self.retries, self.deadline.remaining(), failure, resendable=self.request.resendable
        )
        if seconds is None:
            return None
        self.retries += 1
        return Wait(seconds)

    def _resend_at_once(self, error: Exception, wire: Attempt) -> bool:
        """Whether to resend now, once, outside the retry budget: the request never reached the API.

        It went out on a pooled connection the server had closed while idle (see closed_while_idle).
        """
        if self._resent or not self.request.resendable or self.deadline.remaining() <= 0:
            return False
        if not closed_while_idle(error, reused=wire.reused, received=wire.received, since_write=wire.since_write()):
            return False
        self._resent = True
        logger.debug("%s: %s on a connection the server had closed while idle; resending",
                     self.endpoint, type(error).__name__)  # fmt: skip
        return True

    def _connection_error(self, error: Exception, failure: Failure, wire: Attempt) -> APIConnectionError:
        host = httpx.URL(self._options.base_url).host
        # Bytes the SDK's own pools counted can prove the request never went out whole.
        uncertain = failure.may_have_generated and not wire.unsent
        if isinstance(error, httpx.TimeoutException | TimeoutError) or self.deadline.remaining() <= 0:
            what = "the call's deadline passed" if self.deadline.remaining() <= 0 else f"{type(error).__name__}"
            return APITimeoutError(f"timed out talking to {host}: {what}", may_have_generated=uncertain)
        if uncertain:
            return APIConnectionError(
                f"the connection to {host} was lost after the request was sent ({type(error).__name__})",
                may_have_generated=True,
            )
        if wire.handed:  # connected, and lost before the whole request went out
            return APIConnectionError(
                f"the connection to {host} was lost before the whole request was sent ({type(error).__name__}); "
                "nothing was generated"
            )
        return APIConnectionError(f"could not connect to {host} ({type(error).__name__})")

    def _check_contract(self, response: httpx.Response, body: bytes) -> None:
        """Warn (or raise, in strict mode) when the answer departs from the bundled spec."""
        mismatches = contract_drift(response, body)
        if not mismatches:
            return
        summary = f"HTTP {response.status_code} answer departs from the API contract: " + "; ".join(mismatches)
        if self._options.validate_responses == "strict":
            raise ContractDriftError(summary, mismatches=mismatches, request_id=response.headers.get("x-request-id"))
        # Five frames up is the caller's own line: past this, answered, _attempt, _send and generate.
        warnings.warn(ContractDriftWarning(summary), stacklevel=6)

    def _log(self, *, status: int | None = None, request_id: str | None = None, failure: str | None = None) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = self.deadline.seconds - self.deadline.remaining()
            logger.debug(
                "%s attempt=%d status=%s request_id=%s idempotency_key=%s elapsed=%.2fs%s",
                self.endpoint, self.retries + 1, status, request_id, self.request.idempotency_key, elapsed,
                f" failure={failure}" if failure else "",
            )  # fmt: skip
