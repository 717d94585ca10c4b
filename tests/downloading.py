"""Helpers for download tests: one download through either client, and every trace an error leaves."""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import threading
import time
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import qubrid_video as qv

KEY = "sk-download-SECRET-4242"
FLAVOURS = ["sync", "async"]
WAYS = ["download", "read", "iter"]  # to a file, into memory, chunk by chunk


@dataclass
class Outcome:
    """What one download did: the path written or the exception raised, and how long it took."""

    path: Path | None
    error: Exception | None
    seconds: float


def fetch(
    flavour: str, base_url: str, url: str, dest: Path | str, *, client_options: dict[str, Any] | None = None,
    detached: bool = False, **options: Any,
) -> Outcome:  # fmt: skip
    """Download `url` as a video made by a client of `base_url` (so the key goes to that origin only).

    `client_options` go to the client's constructor, `options` to ``download()``. Only the
    download itself is timed, not making the client. `detached`: the video has no downloader of
    the client's, as after unpickling (a connection of its own, no key).
    """
    # No local variable holds the key: this frame is in the traceback of every failure it returns.
    if flavour == "sync":
        with qv.Qubrid(api_key=KEY, base_url=base_url, **(client_options or {})) as client:
            video = qv.Video(url=url, created=None, request_id="req-dl", **_downloader(client, detached))
            started = time.monotonic()
            try:
                return Outcome(video.download(dest, **options), None, time.monotonic() - started)
            except Exception as exc:  # the tests judge it
                return Outcome(None, exc, time.monotonic() - started)

    async def run() -> Outcome:
        async with qv.AsyncQubrid(api_key=KEY, base_url=base_url, **(client_options or {})) as client:
            video = qv.AsyncVideo(url=url, created=None, request_id="req-dl", **_downloader(client, detached))
            started = time.monotonic()
            try:
                return Outcome(await video.download(dest, **options), None, time.monotonic() - started)
            except Exception as exc:  # the tests judge it
                return Outcome(None, exc, time.monotonic() - started)

    return asyncio.run(run())


def _downloader(client: qv.Qubrid | qv.AsyncQubrid, detached: bool) -> dict[str, Any]:
    return {} if detached else {"downloader": client.downloader}


@dataclass
class Received:
    """What one ``read()`` (how="read") or ``iter_bytes()`` (how="iter") did: the chunks it gave
    (read's one result), the exception raised, and how long it took."""

    chunks: list[bytes]
    error: Exception | None
    seconds: float

    @property
    def data(self) -> bytes:
        """Every byte given, in order."""
        return b"".join(self.chunks)


def receive(
    flavour: str, base_url: str, url: str, how: str, *, client_options: dict[str, Any] | None = None,
    detached: bool = False, **options: Any,
) -> Received:  # fmt: skip
    """Read `url` into memory, or iterate over it, as a video made by a client of `base_url` (see :func:`fetch`).

    The chunks given before an error are kept: what a caller of ``iter_bytes()`` already had.
    """
    chunks: list[bytes] = []
    if flavour == "sync":
        with qv.Qubrid(api_key=KEY, base_url=base_url, **(client_options or {})) as client:
            video = qv.Video(url=url, created=None, request_id="req-dl", **_downloader(client, detached))
            started = time.monotonic()
            try:
                if how == "read":
                    chunks.append(video.read(**options))
                else:
                    for chunk in video.iter_bytes(**options):
                        chunks.append(chunk)
                return Received(chunks, None, time.monotonic() - started)
            except Exception as exc:  # the tests judge it
                return Received(chunks, exc, time.monotonic() - started)

    async def run() -> Received:
        async with qv.AsyncQubrid(api_key=KEY, base_url=base_url, **(client_options or {})) as client:
            video = qv.AsyncVideo(url=url, created=None, request_id="req-dl", **_downloader(client, detached))
            started = time.monotonic()
            try:
                if how == "read":
                    chunks.append(await video.read(**options))
                else:
                    async for chunk in video.iter_bytes(**options):
                        chunks.append(chunk)
                return Received(chunks, None, time.monotonic() - started)
            except Exception as exc:  # the tests judge it
                return Received(chunks, exc, time.monotonic() - started)

    return asyncio.run(run())


def take(flavour: str, way: str, base_url: str, url: str, directory: Path, **options: Any) -> Outcome | Received:
    """The video at `url` one of the three ways (:data:`WAYS`): ``download`` saves it as ``v.mp4`` in
    `directory`; `options` are :func:`fetch`'s or :func:`receive`'s."""
    if way == "download":
        return fetch(flavour, base_url, url, directory / "v.mp4", **options)
    return receive(flavour, base_url, url, way, **options)


# Not followed by the walk below: what every object reaches (modules, classes, code) or what holds
# the test's own machinery rather than the error's (threads, event loops).
_OPAQUE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.CodeType, threading.Thread,
           asyncio.AbstractEventLoop)  # fmt: skip
_WALK_LIMIT = 1_000_000


def clear_key_paths(error: BaseException, key: str = KEY) -> list[str]:
    """Where ``Bearer <key>`` is reachable from `error`, as a debugger or an error tracker walking it could find it.

    The walk follows everything `error` refers to: its chain, its traceback, every frame's local
    variables (not the callers' frames beyond the traceback), and from there every object's
    attributes, slots and items, to any depth. Each hit is given as the types along its path.
    """
    needle = f"Bearer {key}"
    hits: list[str] = []
    seen: set[int] = set()
    pending: list[tuple[object, tuple[str, ...]]] = [(error, (_label(error),))]
    while pending:
        value, path = pending.pop()
        if id(value) in seen or isinstance(value, _OPAQUE):
            continue
        seen.add(id(value))
        assert len(seen) < _WALK_LIMIT, "the walk did not end: the test cannot tell"
        if isinstance(value, str | bytes | bytearray):
            if (needle if isinstance(value, str) else needle.encode()) in value:
                hits.append(" > ".join(path))
            continue
        if isinstance(value, types.FrameType):
            refs = list(value.f_locals.values())
        elif isinstance(value, types.GeneratorType | types.CoroutineType | types.AsyncGeneratorType):
            frames = (getattr(value, name, None) for name in ("gi_frame", "cr_frame", "ag_frame"))
            refs = [frame for frame in frames if frame is not None]
        else:
            refs = gc.get_referents(value)
        pending += [(ref, (*path, _label(ref))) for ref in refs]
    return hits


def _label(value: object) -> str:
    """A step of a path: the type, and a frame's function."""
    return f"frame of {value.f_code.co_name}" if isinstance(value, types.FrameType) else type(value).__name__


def _raw_headers(value: object) -> Iterator[str]:
    """Header values as sent, for anything that holds some (httpx masks Authorization in reprs)."""
    for name in ("request", "response", "headers"):
        try:
            inner = getattr(value, name, None)
        except RuntimeError:  # httpx errors made without a request raise instead
            continue
        if isinstance(inner, httpx.Headers):
            yield repr(inner.raw)
        elif isinstance(inner, httpx.Request | httpx.Response):
            yield repr(inner.headers.raw)


def _safe_repr(value: object) -> str:
    """repr() as error trackers take it: a repr that fails (a half-built object) is not an error."""
    try:
        return repr(value)
    except Exception as exc:  # the tracker records the failure instead
        return f"<repr failed: {exc!r}>"


def traces(error: BaseException) -> Iterator[str]:
    """Everything an error tracker could record: messages, reprs, the printed traceback, the pickle,
    and, for every exception in the chain (causes, contexts, groups), each frame's locals, repr'd."""
    yield "".join(traceback.format_exception(error))
    yield repr(pickle.dumps(error))
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield from (str(exc), repr(exc), repr(getattr(exc, "__dict__", None)))
        yield from _raw_headers(exc)
        frame = exc.__traceback__
        while frame is not None:
            for name, value in list(frame.tb_frame.f_locals.items()):
                yield f"{frame.tb_frame.f_code.co_name}: {name}={_safe_repr(value)}"
                yield from _raw_headers(value)
            frame = frame.tb_next
        pending += [linked for linked in (exc.__cause__, exc.__context__) if linked is not None]
        if isinstance(exc, BaseExceptionGroup):
            pending += list(exc.exceptions)


def leaks(error: BaseException, key: str = KEY) -> list[str]:
    """The traces of `error` that contain `key`."""
    return [text for text in traces(error) if key in text]


def check_failure(outcome: Outcome | Received, expected: type[Exception], url: str, directory: Path) -> Exception:
    """The documented exception, for the video's URL, picklable, with no key anywhere and no file left."""
    error = outcome.error
    assert type(error) is expected, f"expected {expected.__name__}, got {type(error).__name__}: {error}"
    assert isinstance(error, qv.DownloadError)
    assert error.url == url, error.url
    found = leaks(error)
    assert found == [], f"the key shows in: {found}"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.url) == (expected, str(error), url), copy
    left = os.listdir(directory)
    assert left == [], f"left behind: {left}"
    return error
