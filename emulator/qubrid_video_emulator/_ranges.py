"""Which bytes of a video a ``Range`` header asks for, read as RFC 9110 (section 14) says.

A header that does not parse is ignored (the whole file is served), as the RFC requires of a
recipient; so is one naming several ranges, which the RFC lets a server ignore: serving a single
part would leave the client without bytes it asked for, and multipart/byteranges is more than
any SDK uses. A valid range that starts at or past the end is unsatisfiable (416).
"""

from __future__ import annotations

import re

_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# Any position with more digits than this is past the end of any file; int() refuses more than
# 4,300 digits, so longer ones are never converted.
_MAX_DIGITS = 18
_PAST_ANY_END = 10**_MAX_DIGITS


class RangeNotSatisfiable(Exception):
    """The header is a valid single range, but none of the file's bytes fall in it."""


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _MAX_DIGITS else _PAST_ANY_END


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) to serve, or None to ignore the header and serve it all.

    Args:
        header: The ``Range`` header's value.
        size: The file's length in bytes.

    Raises:
        RangeNotSatisfiable: a valid range of which no byte exists (answer 416, ``bytes */SIZE``).
    """
    unit, equals, range_set = header.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    # The list rule (RFC 9110 5.6.1) allows empty elements and whitespace around the commas.
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    match = _RANGE_SPEC.fullmatch(specs[0]) if len(specs) == 1 else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = _position(first)
    end = _position(last) if last else None
    if end is not None and end < start:
        return None  # an invalid range-spec makes the whole header invalid
    if start >= size:
        raise RangeNotSatisfiable
    return start, size - 1 if end is None else min(end, size - 1)
