"""Client settings: where the API is, the key, how long to wait, how often to retry. No I/O."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
import time
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from . import _validate
from ._errors import InvalidParameterError, ParameterTypeError
from ._retry import RetryPolicy
from .contract import ensure_available

DEFAULT_BASE_URL = "https://platform.qubrid.com/v1"
API_KEY_ENV = "QUBRID_API_KEY"
BASE_URL_ENV = "QUBRID_BASE_URL"

# What a sent request's Authorization becomes, so that responses and errors never carry the key.
REDACTED = "Bearer [redacted]"


class Unchanged(enum.Enum):
    """The default of ``with_options()``'s arguments: keep the client's value.

    A sentinel rather than None, which means something for several options (``api_key=None``:
    read the environment; ``timeout=None``: the default limits).
    """

    UNCHANGED = "UNCHANGED"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED


@dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
class Timeout:
    """How long a call may take: a frozen dataclass (``dataclasses.replace`` makes a changed copy).

    Attributes:
        connect: Seconds to establish a connection.
        read: Seconds to wait for each piece of the answer; long, because generation is synchronous.
        write: Seconds to send each piece of the request (uploads).
        total: Seconds for the whole call: every attempt and every wait between them.
    """

    connect: float = 10.0
    read: float = 600.0
    write: float = 120.0
    total: float = 900.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "total"):
            _validate.seconds(f"timeout.{name}", getattr(self, name))

    def __reduce__(self) -> tuple[Any, ...]:
        # Through the constructor: an unpickled Timeout is checked like any other, and 0.1.0 (whose
        # Timeout was an attrs class taking the same arguments) reads these pickles too.
        return (Timeout, (self.connect, self.read, self.write, self.total))

    def __setstate__(self, state: Mapping[str, object]) -> None:
        """Restore a Timeout pickled by 0.1.0 (an attrs class, its fields as a dict), checked like a new one."""
        for name in ("connect", "read", "write", "total"):
            object.__setattr__(self, name, state[name])
        self.__post_init__()

    def for_attempt(self, remaining: float) -> httpx.Timeout:
        """The httpx timeouts for one attempt, none beyond the call's remaining time.

        Waiting for a free pooled connection is bounded by the deadline alone: under heavy
        concurrency, calls queue for a connection instead of failing with a pool timeout.
        """
        return httpx.Timeout(**self.extension(remaining))

    def extension(self, remaining: float) -> dict[str, float]:
        """:meth:`for_attempt` as httpx's ``timeout`` request extension, which requests carry.

        Handing httpx the extension itself spares building two ``httpx.Timeout`` per attempt
        (``build_request`` copies the one it is given), yet stays exact for every attempt.
        """
        left = max(remaining, 0.001)
        return {"connect": min(self.connect, left), "read": min(self.read, left), "write": min(self.write, left),
                "pool": left}  # fmt: skip


def coerce_timeout(name: str, value: object, default: Timeout) -> Timeout:
    """Accept a Timeout, an httpx.Timeout, or seconds (the call's total deadline)."""
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, httpx.Timeout):
        parts = {k: getattr(value, k) for k in ("connect", "read", "write")}
        return dataclasses.replace(default, **{k: v for k, v in parts.items() if v is not None})
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterTypeError(name, f"expected seconds or a qubrid_video.Timeout, got {type(value).__name__}")
    seconds = _validate.seconds(name, value)
    return Timeout(connect=min(default.connect, seconds), read=min(default.read, seconds),
                   write=min(default.write, seconds), total=seconds)  # fmt: skip


class Deadline:
    """The end of a call's time budget, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._end - time.monotonic()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports made explicit: two URLs share an origin iff these match."""
    parsed = httpx.URL(str(url))
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, port


# A class, not a named tuple: error trackers walk a tuple's items (the key among them) in the
# frames of an error, where they show other objects by their repr, which leaves the key out.
@dataclasses.dataclass(frozen=True, slots=True)
class ClientOptions:
    """A client's options, checked; named as the constructor's arguments. The key never shows in its repr."""

    api_key: str = dataclasses.field(repr=False)
    base_url: str
    timeout: Timeout
    max_retries: int
    default_headers: Mapping[str, str]
    allow_insecure_http: bool
    retry_possibly_billed: bool
    validate_responses: bool | str

    @property
    def retry(self) -> RetryPolicy:
        """When and how patiently a call is retried."""
        return RetryPolicy(max_retries=self.max_retries, retry_possibly_billed=self.retry_possibly_billed)

    def changed(self, changes: Mapping[str, object]) -> ClientOptions:
        """These options with `changes` (an UNCHANGED value keeps its option), checked as the constructor would."""
        given = {name: value for name, value in changes.items() if value is not UNCHANGED}
        current = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return resolve_options(**{**current, **given})


def _check_base_url(value: object, allow_insecure_http: bool) -> str:
    if not isinstance(value, str):
        raise ParameterTypeError("base_url", f"expected a URL string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError("base_url", f"expected an http(s) URL such as {DEFAULT_BASE_URL}, got {value!r}")
    if "?" in value or "#" in value:  # the endpoint's path is appended: it would land inside them
        raise InvalidParameterError("base_url", f"expected a URL with no query or fragment, like {DEFAULT_BASE_URL}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise InvalidParameterError(
            "base_url",
            f"http:// to {parts.hostname} would send the API key unencrypted; use https, "
            "or pass allow_insecure_http=True if you really mean it (loopback hosts are always allowed)",
        )
    return value.rstrip("/")


def resolve_options(
    *,
    api_key: object,
    base_url: object,
    timeout: object,
    max_retries: object,
    default_headers: object,
    allow_insecure_http: object,
    retry_possibly_billed: object,
    validate_responses: object = False,
) -> ClientOptions:
    """Check the constructor's arguments, filling the key and base URL from the environment.

    Raises:
        InvalidParameterError: a missing key, a non-http(s) or insecure base URL, a negative retry
            count, or response validation asked for without the ``contract`` extra.
        ParameterTypeError: an argument of the wrong type.
    """
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if key is None or key == "":
        raise InvalidParameterError(
            "api_key", f"no API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
        )
    if not isinstance(key, str):
        raise ParameterTypeError("api_key", f"expected a string, got {type(key).__name__}")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise InvalidParameterError("api_key", "contains whitespace or unprintable characters")
    insecure = _validate.flag("allow_insecure_http", allow_insecure_http)
    billed = _validate.flag("retry_possibly_billed", retry_possibly_billed)
    retries = _validate.whole("max_retries", max_retries, minimum=0)
    if validate_responses not in (False, True, "strict"):
        raise InvalidParameterError(
            "validate_responses", f"expected False, True or 'strict', got {validate_responses!r}"
        )
    url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    options = ClientOptions(
        api_key=key,
        base_url=_check_base_url(url, bool(insecure)),
        timeout=coerce_timeout("timeout", timeout, Timeout()),
        max_retries=retries,
        default_headers=_validate.headers("default_headers", default_headers, per_call=False),
        allow_insecure_http=bool(insecure),
        retry_possibly_billed=bool(billed),
        validate_responses=validate_responses,
    )
    if options.validate_responses:
        ensure_available()
    return options
