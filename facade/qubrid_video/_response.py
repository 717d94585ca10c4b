"""Read an answer: the video of a 200, or the right exception for anything else, whatever the body holds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypedDict
from urllib.parse import urlsplit

import httpx

from . import _generated
from ._errors import APIStatusError, RateLimitError, ResponseValidationError, error_class
from ._retry import Failure

MAX_BODY_BYTES = 8 * 1024 * 1024  # an answer is a few hundred bytes; anything huge is hostile


class VideoFields(TypedDict):
    """What a 200 holds, as the fields of a ``Video``."""

    url: str
    created: dt.datetime | None
    request_id: str | None
    response: httpx.Response


def _decode(body: bytes) -> object:
    """The JSON value of a body, or its text when it is not JSON (an HTML page from a proxy...).

    JSON nested deeper than Python's recursion limit (``[`` x 100,000) counts as not JSON.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _header_request_id(response: httpx.Response) -> str | None:
    return response.headers.get("x-request-id") or None


def parse_success(response: httpx.Response, body: bytes) -> VideoFields:
    """The video of a 200 answer.

    Raises:
        ResponseValidationError: the body is not the documented JSON or holds no http(s) URL.
    """
    decoded = _decode(body)
    request_id = _header_request_id(response)
    try:
        if not isinstance(decoded, dict):
            raise TypeError("the body is not a JSON object")
        urls, created = _generated.video_answer(decoded)
        url = next((url for url in urls if isinstance(url, str)), None)
        parts = urlsplit(url or "")
        if url is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("no http(s) video URL in `data`")
        seconds = created if isinstance(created, int) and not isinstance(created, bool) else None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ResponseValidationError(
            f"the API answered 200 without a usable video URL ({exc})",
            request_id=request_id,
            body=decoded,
            may_have_generated=True,
        ) from None
    return VideoFields(url=url, created=_timestamp(seconds), request_id=request_id, response=response)


def _timestamp(seconds: int | None) -> dt.datetime | None:
    """A Unix time as an aware datetime; None when absent or outside what a datetime holds (years 1-9999).

    The video is there whatever ``created`` says, so an odd value loses the time, not the video.
    """
    if seconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _error_fields(decoded: object) -> dict[str, Any]:
    """The documented ``{"error": {...}}`` fields, read through the generated model when they fit it."""
    if not isinstance(decoded, dict) or not isinstance(decoded.get("error"), dict):
        return {}
    try:
        fields = _generated.error_answer(decoded)
    except (KeyError, TypeError, ValueError):
        fields = dict(decoded["error"])
    return {k: v if isinstance(v, str) else None for k, v in fields.items() if k in _FIELDS}


_FIELDS = ("message", "type", "code", "param", "request_id")


def status_error(response: httpx.Response, body: bytes, failure: Failure | None = None) -> APIStatusError:
    """The exception for an error status, whether the body is the documented JSON, HTML or nothing.

    Args:
        response: The answer.
        body: Its body, as read.
        failure: What the answer means for retrying, when the caller has derived it already.
    """
    failure = failure or Failure.of_answer(response.status_code, response.headers)
    decoded = _decode(body)
    fields = _error_fields(decoded)
    status = response.status_code
    text = decoded.strip()[:200] if isinstance(decoded, str) else ""
    message = fields.get("message") or text or response.reason_phrase or "no error message"
    kwargs: dict[str, Any] = {
        "status_code": status,
        "response": response,
        "type": fields.get("type"),
        "code": fields.get("code"),
        "param": fields.get("param"),
        "request_id": fields.get("request_id") or _header_request_id(response),
        "body": decoded if body else None,
        "may_have_generated": failure.may_have_generated,
    }
    cls = error_class(status, kwargs["code"])
    if cls is RateLimitError:
        kwargs["retry_after"] = failure.retry_after
    return cls(message, **kwargs)
