"""Checks of a caller's arguments, made before anything is sent or written: one function per kind.

Each raises ``ParameterTypeError`` for a value of the wrong type and ``InvalidParameterError`` for
a value of the right type that is not allowed, naming the parameter and saying what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from ._errors import InvalidParameterError, ParameterTypeError

IDEMPOTENCY_HEADER = "Idempotency-Key"
# RFC 9110 token characters: anything else (a space, a colon, NUL...) would corrupt the request.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, spaces and tabs: no line breaks (header injection), no controls, no bytes httpx
# cannot encode.
_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Framing headers the SDK computes from the body it builds: a caller's value could only break it.
# Accept-Encoding too: the SDK asks only for the encodings it can undo within its memory cap.
_RESERVED = frozenset({"content-type", "content-length", "transfer-encoding", "host", "accept-encoding"})


def flag(name: str, value: object, *, optional: bool = False) -> bool | None:
    """`value`, True or False (or None when `optional`)."""
    if isinstance(value, bool) or (optional and value is None):
        return value
    raise ParameterTypeError(name, f"expected True or False, got {type(value).__name__}")


def whole(name: str, value: object, *, minimum: int = 1, unit: str = "") -> int:
    """`value`, a whole number of at least `minimum` (1 or 0); a bool is not one."""
    what = ("a positive whole number" if minimum > 0 else "a whole number") + (f" of {unit}" if unit else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(name, f"expected {what}, got {type(value).__name__}")
    if value < minimum:
        allowed = what if minimum > 0 else "0 or more"
        raise InvalidParameterError(name, f"must be {allowed}, got {value}")
    return value


def unicode(name: str, value: str) -> str:
    r"""`value`, once it is certain it can be sent: valid Unicode (a lone surrogate cannot be encoded).

    Raises:
        InvalidParameterError: the text holds a lone surrogate such as ``"\\ud800"``.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidParameterError(
            name, f"is not valid Unicode text (a lone surrogate {value[exc.start]!r} at index {exc.start})"
        ) from None
    return value


def text(name: str, value: object, *, required: bool = False) -> str | None:
    """`value`, a string that can be sent (not blank when `required`), or None when it may be left out."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ParameterTypeError(name, f"expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidParameterError(name, "must not be empty")
    return unicode(name, value)


def seconds(name: str, value: object) -> float:
    """`value`, a usable number of seconds: zero, negative, NaN and infinity are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterTypeError(name, f"expected seconds as a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(name, f"must be a positive, finite number of seconds, got {value}")
    return float(value)


def callback(name: str, value: object) -> Callable[[int, int | None], object] | None:
    """`value`, a callable ``progress(done, total)``, or None."""
    if value is not None and not callable(value):
        raise ParameterTypeError(name, "expected a callable progress(done, total) or None")
    return value


def headers(name: str, value: object, *, per_call: bool = True) -> dict[str, str]:
    """A headers mapping HTTP can carry: names are tokens, values printable ASCII, each name given once.

    Args:
        name: The parameter being checked, for error messages.
        value: The caller's mapping, or None.
        per_call: False for client-wide headers, where an ``Idempotency-Key`` is refused: one key
            on every call would make the API replay the first answer for every different request.

    Raises:
        ParameterTypeError: not a mapping of strings to strings.
        InvalidParameterError: a name or value HTTP cannot carry, a framing header the SDK sets,
            a name given twice in different spellings, or a client-wide ``Idempotency-Key``.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterTypeError(name, f"expected a mapping of header names to values, got {type(value).__name__}")
    seen: set[str] = set()
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ParameterTypeError(name, "header names and values must be strings")
        if not _TOKEN.fullmatch(key):
            raise InvalidParameterError(
                name, f"header name {key[:40]!r} is not allowed: use letters, digits and !#$%&'*+-.^_`|~ only"
            )
        if not _VALUE.fullmatch(item):
            raise InvalidParameterError(
                name, f"header {key!r} has a line break, a control or a non-ASCII character in its value"
            )
        lower = key.lower()
        if lower in _RESERVED:
            raise InvalidParameterError(name, f"header {key!r} is set by the SDK from the request it builds")
        if lower == IDEMPOTENCY_HEADER.lower() and not per_call:
            raise InvalidParameterError(
                name, "an Idempotency-Key must differ per call: pass it in the call's extra_headers"
            )
        if lower in seen:
            raise InvalidParameterError(name, f"header {key!r} is given twice (names are case-insensitive)")
        seen.add(lower)
    return dict(value)
