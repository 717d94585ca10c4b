"""Read a generation request's body (JSON or multipart) into fields and uploads, refusing bodies built to hurt."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from ._errors import RequestError, bad_request
from ._params import MAX_DIGITS, Upload

MAX_JSON_DEPTH = 32


class _LongNumber:
    """Stands in for a JSON integer too long to be any field's value (int() refuses past 4,300 digits)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _deeper_than(value: Any, limit: int) -> bool:
    """True when arrays and objects nest more than `limit` levels (iteratively: the point is deep input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> RequestError:
    # Python's parser gives up near its recursion limit; far less already hurts the journal and validation.
    message = f"The request body is not valid JSON: it nests deeper than {MAX_JSON_DEPTH} levels."
    return bad_request(message, param=None, code="invalid_json")


def _long_number(value: Any) -> _LongNumber | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _LongNumber):
            return item
        if isinstance(item, dict | list):
            stack.extend(item.values() if isinstance(item, dict) else item)
    return None


def load_json(body: bytes) -> Any:
    """Parse a JSON body, raising a 400 for nesting past ``MAX_JSON_DEPTH`` or a needlessly long integer.

    Raises:
        ValueError: the body is not JSON at all (spec validation then answers for it).
        RequestError: a 400; it names the top-level field holding a long integer when there is one.
    """
    longs: list[_LongNumber] = []

    def parse_int(text: str) -> int | _LongNumber:
        if len(text.lstrip("-")) <= MAX_DIGITS:
            return int(text)
        longs.append(_LongNumber(len(text.lstrip("-"))))
        return longs[-1]

    try:
        parsed = json.loads(body, parse_int=parse_int)
    except RecursionError:
        raise _too_deep() from None
    # Counting brackets (C speed) spares ordinary bodies the walk; strings holding brackets only cost a walk.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _deeper_than(parsed, MAX_JSON_DEPTH):
        raise _too_deep()
    items = parsed.items() if isinstance(parsed, dict) else [(None, parsed)]
    # A long number under a key given twice went with the first value: not here to name (validation,
    # parsing the body again, refuses it).
    found = next(((k, n) for k, v in items if (n := _long_number(v)) is not None), None) if longs else None
    if found is not None:
        name, long = found
        where = f"'{name}'" if name is not None else "the request body"
        raise bad_request(f"Invalid value for {where}: a number of {long.digits} digits is out of range.", param=name)
    return parsed


async def parse_body(request: Request, content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Read fields and uploads from the body already read; shape errors are left to spec validation.

    Raises:
        RequestError: a 400 for a body no client should send: truncated multipart, a JSON bomb.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            parsed = load_json(body)
        except ValueError:
            return {}, {}
        return (parsed if isinstance(parsed, dict) else {}), {}
    if media != "multipart/form-data":
        return {}, {}
    return await _parse_multipart(request, content_type, body)


async def _parse_multipart(
    request: Request, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, Upload]]:
    boundary = content_type.partition("boundary=")[2].split(";")[0].strip().strip('"')
    # RFC 2046: the body ends with the close delimiter; a body cut short does not.
    if not boundary or not body.rstrip(b"\r\n").endswith(f"--{boundary}--".encode()):
        raise bad_request("Malformed multipart body: it is truncated or has no closing boundary.", param=None)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    replayed = Request({"type": "http", "method": "POST", "headers": request.scope["headers"]}, replay)
    try:
        async with replayed.form(max_part_size=4 * 1024 * 1024) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    if name in ("image_file", "audio_file"):
                        files[name] = Upload(data=data, filename=value.filename, content_type=value.content_type)
                    else:
                        fields[name] = data.decode("utf-8", "replace")
                elif name in ("image_file", "audio_file"):
                    files[name] = Upload(data=value.encode(), filename=None, content_type=None)
                else:
                    fields[name] = value
    except MultiPartException as exc:
        raise bad_request(f"Malformed multipart body: {exc.message}.", param=None) from None
    return fields, files
