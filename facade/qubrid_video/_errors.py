"""Every exception the SDK raises, in one tree.

    QubridError
    ├── InvalidParameterError (ValueError)      bad input, raised before anything is sent
    │   └── ParameterTypeError (TypeError)      ... of the wrong type
    ├── DestinationExistsError (FileExistsError) download target exists and overwrite is off
    ├── DownloadError (OSError)                 the video could not be downloaded intact
    │   └── DownloadTimeoutError (TimeoutError) ... within the download's deadline
    └── APIError                                anything the API (or the way to it) did
        ├── APIStatusError                      an HTTP error status
        │   ├── BadRequestError                 400
        │   ├── AuthenticationError             401
        │   ├── InsufficientCreditsError        402
        │   ├── PermissionDeniedError           403
        │   ├── NotFoundError                   404: any (a base URL without /v1...)
        │   │   └── ModelNotFoundError          404 with code model_not_found
        │   ├── RateLimitError                  429 (retry_after)
        │   ├── InternalServerError             500
        │   ├── BackendUnavailableError         502
        │   └── GenerationTimeoutError          504
        ├── APIConnectionError                  no HTTP answer: connect failure, dropped connection
        │   └── APITimeoutError (TimeoutError)  a timeout or the call's deadline
        ├── ResponseValidationError             a 200 without a usable video URL
        └── ContractDriftError                  an answer off the spec (validate_responses="strict")

Every class pickles (the HTTP response is left out) and none carries the API key. ``str()`` of
an API error is always one line: what the server sent is shown with its whitespace collapsed,
its control characters escaped and long text shortened, while the attributes keep it raw.
"""

from __future__ import annotations

import re
from typing import Any, Required, TypedDict, Unpack

import httpx

_BILLING_NOTE = "the generation may have run and been billed"
MESSAGE_LIMIT = 300
FIELD_LIMIT = 100
_WHITESPACE = re.compile(r"\s+")  # Unicode-aware: CR, LF, TAB, VT, FF, \x1c-\x1f, NEL, U+2028/2029...
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029"  # C0, DEL, C1 (ESC, CSI...), line and paragraph separators
    # Format characters (Unicode category Cf): bidi overrides and isolates, which reorder what a
    # terminal shows after them (Trojan Source), zero-width and invisible ones, tags.
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _one_line(text: str, limit: int) -> str:
    r"""`text` made safe to print on one line of a terminal or a log, at most `limit` characters.

    Text from a server (an HTML error page, a message with line breaks or escape codes) could
    otherwise span lines, forge lines of output (``qubrid-video: error: ...``) or drive the
    terminal, and bidi controls could reorder what a terminal shows after them. Runs of
    whitespace become one space; other control and format characters are escaped (``\x1b``,
    ``\u202e``); text longer than `limit` is cut and ends with ``…``.
    """
    flat = _CONTROL.sub(_escape, _WHITESPACE.sub(" ", text).strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def bare(exc: Exception) -> Exception:
    """`exc`'s type and message alone, to chain or keep: no request, no traceback, no chain.

    An httpx error holds its request, and its traceback holds httpcore's frames, whose copy of the
    request carries the API key in clear.
    """
    return type(exc)(str(exc))


class QubridError(Exception):
    """Base of every exception raised by qubrid_video."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from attributes, not __init__ arguments (which are keyword-only), and leave
        # the live HTTP response behind: it holds a socket and is not picklable. OSError keeps
        # `errno` in a slot of its own, outside __dict__.
        state = {k: v for k, v in self.__dict__.items() if k != "response"}
        if isinstance(self, OSError):
            state["errno"] = self.errno
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type[QubridError], args: tuple[Any, ...], state: dict[str, Any]) -> QubridError:
    error = cls.__new__(cls)
    error.args = args
    for name, value in state.items():
        setattr(error, name, value)
    if isinstance(error, APIStatusError):
        error.response = None
    return error


class InvalidParameterError(QubridError, ValueError):
    """A parameter has a value the SDK or the API does not allow; nothing was sent.

    Attributes:
        param: The parameter's name.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class ParameterTypeError(InvalidParameterError, TypeError):
    """A parameter has the wrong type; nothing was sent."""


class DestinationExistsError(QubridError, FileExistsError):
    """The download destination exists and ``overwrite`` is False; nothing was written.

    Attributes:
        path: The destination that exists.
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} already exists; pass overwrite=True to replace it")
        self.path = path


class DownloadError(QubridError, OSError):
    """The video could not be downloaded completely; the destination was left untouched.

    Attributes:
        url: The video's URL.
        status_code: The HTTP status the video URL answered, when that was the failure (an expired
            link answers 403, 404 or 410); else None.
        errno: The file system's error number, when saving failed locally (``errno.ENOSPC``,
            ``errno.EFBIG``...); else None.
    """

    def __init__(self, message: str, *, url: str, status_code: int | None = None, errno: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.errno = errno


class DownloadTimeoutError(DownloadError, TimeoutError):
    """The download's deadline (its ``timeout``) passed before the video was whole; nothing was left on disk."""


class APIError(QubridError):
    """The API, or something between it and the client, did not give a usable answer.

    The attributes hold what the server sent, unchanged (``body`` whole, up to 8 MiB); ``str()``
    shows ``message``, ``code``, ``param`` and ``request_id`` on one line, whitespace collapsed,
    control characters escaped and each shortened (the message to 300 characters).

    Attributes:
        message: What went wrong, from the API's error body when it sent one (raw: it may span lines).
        type: The API's error category (``invalid_request_error``, ``server_error``...), if any.
        code: The API's specific error code (``model_not_found``...), if any.
        param: The request field the API blamed, if any.
        request_id: The API's request id (from the body, else the ``x-request-id`` header).
        body: The decoded JSON body, or the raw text when it was not JSON, or None.
        may_have_generated: True when the request reached the API and the generation may have
            run (and been billed) although no video URL came back. Such failures are not retried
            unless the client was created with ``retry_possibly_billed=True``.
    """

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: object = None,
        may_have_generated: bool = False,
    ) -> None:
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body
        self.may_have_generated = may_have_generated
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [_one_line(self.code, FIELD_LIMIT)] if self.code else []
        parts.append(_one_line(self.message, MESSAGE_LIMIT))
        if self.param:
            parts.append(f"(param: {_one_line(self.param, FIELD_LIMIT)})")
        if self.may_have_generated:
            parts.append(f"[{_BILLING_NOTE}]")
        if self.request_id:
            parts.append(f"[request_id: {_one_line(self.request_id, FIELD_LIMIT)}]")
        return " ".join(parts)


class _APIErrorFields(TypedDict, total=False):
    """:class:`APIError`'s optional keyword arguments, which its subclasses pass on."""

    type: str | None
    code: str | None
    param: str | None
    request_id: str | None
    body: object
    may_have_generated: bool


class APIStatusError(APIError):
    """The API answered with an HTTP error status.

    Attributes:
        status_code: The HTTP status.
        response: The ``httpx.Response``, with the body the SDK read (``.json()``, ``.text``;
            decoded, at most 8 MiB) and its request's credentials redacted; None after unpickling.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response: httpx.Response | None = None,
        **kwargs: Unpack[_APIErrorFields],
    ) -> None:
        self.status_code = status_code
        self.response = response
        super().__init__(message, **kwargs)

    def _describe(self) -> str:
        return f"HTTP {self.status_code} " + super()._describe()


class _APIStatusErrorFields(_APIErrorFields, total=False):
    """:class:`APIStatusError`'s keyword arguments, which its subclasses pass on (``status_code`` required)."""

    status_code: Required[int]
    response: httpx.Response | None


class BadRequestError(APIStatusError):
    """400: a field is missing or invalid (``param`` names it), or the body is malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or not valid."""


class InsufficientCreditsError(APIStatusError):
    """402: the account has too few credits for this generation."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or resource (the API may say ``insufficient_quota``)."""


class NotFoundError(APIStatusError):
    """404: nothing answers at the URL asked; most often a base URL missing its ``/v1``.

    An unknown model is the subclass :class:`ModelNotFoundError`.
    """


class ModelNotFoundError(NotFoundError):
    """404 with code ``model_not_found``: the model does not exist or is not available."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically, raised when retries or the deadline ran out.

    Attributes:
        retry_after: Seconds the API asked to wait, if it said.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, **kwargs: Unpack[_APIStatusErrorFields]
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _describe(self) -> str:
        wait = f" [retry after {self.retry_after:g} s]" if self.retry_after is not None else ""
        return super()._describe() + wait


class InternalServerError(APIStatusError):
    """500: the API failed; the generation may have run, so it is not retried by default."""


class BackendUnavailableError(APIStatusError):
    """502: the upstream video provider was unavailable; retried automatically."""


class GenerationTimeoutError(APIStatusError):
    """504: the generation did not finish in the API's window; it may have run, so it is not retried."""


class APIConnectionError(APIError):
    """No HTTP answer: the connection failed or was lost."""


class APITimeoutError(APIConnectionError, TimeoutError):
    """A connect, read or write timeout, or the call's overall deadline, ran out."""


class ResponseValidationError(APIError):
    """The API answered 200 but the body holds no usable video URL (truncated or unexpected JSON)."""


class ContractDriftError(APIError):
    """With ``validate_responses="strict"``: the answer departs from the spec the SDK was built from.

    Attributes:
        mismatches: What differed, one line each.
    """

    def __init__(self, message: str, *, mismatches: list[str], **kwargs: Unpack[_APIErrorFields]) -> None:
        self.mismatches = mismatches
        super().__init__(message, **kwargs)


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
    500: InternalServerError,
    502: BackendUnavailableError,
    504: GenerationTimeoutError,
}
# Where one status covers failures the caller fixes differently, the body's code picks a subclass.
CODE_ERRORS: dict[tuple[int, str], type[APIStatusError]] = {
    (404, "model_not_found"): ModelNotFoundError,
}


def error_class(status: int, code: str | None) -> type[APIStatusError]:
    """The class for an error answer: by its body's code where that has its own class, else by status."""
    refined = CODE_ERRORS.get((status, code)) if code is not None else None
    return refined or STATUS_ERRORS.get(status, APIStatusError)
