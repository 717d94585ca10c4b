"""Headers a caller adds: checked before anything is sent, and merged so each name is sent once.

HTTP header names are case-insensitive, so ``authorization`` in ``default_headers`` and the SDK's
``Authorization`` are one header: merging plain dicts would send both. Later layers win (the SDK's
own, then ``default_headers``, then the call's ``extra_headers``), keeping the winner's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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


def check_headers(name: str, headers: object, *, per_call: bool = True) -> dict[str, str]:
    """Validate a headers mapping: names are HTTP tokens, values printable ASCII, each name given once.

    Args:
        name: The parameter being checked, for error messages.
        headers: The caller's mapping, or None.
        per_call: False for client-wide headers, where an ``Idempotency-Key`` is refused: one key
            on every call would make the API replay the first answer for every different request.

    Raises:
        ParameterTypeError: not a mapping of strings to strings.
        InvalidParameterError: a name or value HTTP cannot carry, a framing header the SDK sets,
            a name given twice in different spellings, or a client-wide ``Idempotency-Key``.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ParameterTypeError(name, f"expected a mapping of header names to values, got {type(headers).__name__}")
    seen: set[str] = set()
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ParameterTypeError(name, "header names and values must be strings")
        if not _TOKEN.fullmatch(key):
            raise InvalidParameterError(
                name, f"header name {key[:40]!r} is not allowed: use letters, digits and !#$%&'*+-.^_`|~ only"
            )
        if not _VALUE.fullmatch(value):
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
    return dict(headers)


def merge_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """One header per name, case-insensitively; a later layer's value (and spelling) wins."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for key, value in layer.items():
            merged[key.lower()] = (key, value)
    return dict(merged.values())
