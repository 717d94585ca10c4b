"""The file side of a download: its name, a temporary file beside the target, moved into place only when whole.

Every local failure (a read-only directory, a full disk, a file-size limit, a name too long)
becomes a :class:`DownloadError` carrying the video's URL, chained to the ``OSError`` that said why.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit

from ._errors import DestinationExistsError, DownloadError, InvalidParameterError, ParameterTypeError, QubridError
from ._threads import off_loop

_NAME_ATTEMPTS = 100  # names carry 48 random bits: even one clash is unlikely
# Enough of the target's name to recognise the temporary file, short enough that the name stays
# within 255 bytes (the usual limit) whatever the target's own length: 40 characters of up to 4
# bytes, plus the dot, 12 random hex digits and ".part".
_NAME_KEPT = 40
# A name from a URL: a stem of the characters _UNSAFE leaves, and a video's extension (else .mp4).
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_STEM_CHARS = 150
# Windows opens the device, not a file, for these names whatever their extension ("nul.mp4").
_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))})


def safe_name(url: str, request_id: str | None) -> str:
    """A file name from the URL's last path segment: safe to write, to list and to open, on any system.

    The server chooses the URL, so the name is ``STEM.EXT`` with one dot only: EXT is the URL's
    extension when it is a video's (``.mp4``, ``.m4v``, ``.mov``, ``.webm``, ``.mkv``), else
    ``.mp4``, so no ``.sh``, ``.html`` or ``.exe`` is ever made, nor hidden inside (``setup.exe.mp4``
    shows as ``setup.exe`` where extensions are hidden); STEM keeps the segment's letters, digits,
    ``_`` and ``-`` (the rest, dots included, becomes ``_``), with no leading ``_`` or ``-`` (an
    option to a shell command), cut to 150 characters. A Windows device name (``NUL``, ``con``...)
    gets a ``video-`` prefix; a URL with no usable stem is named after the request id.
    """
    segment = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    suffix = PurePosixPath(segment).suffix if segment not in ("", ".", "..") else ""
    stem = _clean(segment.removesuffix(suffix)) or _clean(f"video-{request_id or 'download'}")
    if stem.upper() in _DEVICES:
        stem = f"video-{stem}"
    return stem + (suffix.lower() if suffix.lower() in VIDEO_EXTENSIONS else ".mp4")


def _clean(text: str) -> str:
    """`text` in safe characters and no dot, without the ``_`` and ``-`` it could start or end with."""
    return _UNSAFE.sub("_", text)[:_STEM_CHARS].strip("_-")


@contextlib.contextmanager
def local_errors(url: str, target: Path) -> Iterator[None]:
    """Turn an ``OSError`` from the file system into a DownloadError naming `target`; ours pass as they are."""
    try:
        yield
    except QubridError:
        raise
    except OSError as exc:
        raise _not_saved(url, target, exc) from exc


def _not_saved(url: str, target: Path, exc: OSError) -> DownloadError:
    return DownloadError(f"could not save {target} ({exc.strerror or exc})", url=url, errno=exc.errno)


def destination(dest: object, url: str, request_id: str | None) -> Path:
    """The file to write: `dest` itself, or a safe name from the URL inside `dest` when it is a directory.

    Raises:
        InvalidParameterError: `dest` is not a path, or its directory does not exist.
        DownloadError: the file system refused to look at it (a name too long...).
    """
    if not isinstance(dest, str | os.PathLike):
        # A file object (io.BytesIO...) is a natural guess: name the way to get the bytes in memory.
        hint = "; for the bytes in memory use read(), or iter_bytes() to stream them" if hasattr(dest, "write") else ""
        raise ParameterTypeError("dest", f"expected a file or directory path, got {type(dest).__name__}{hint}")
    raw = os.fspath(dest)
    if not isinstance(raw, str) or not raw:
        raise InvalidParameterError("dest", "expected a non-empty file or directory path")
    path = Path(raw)
    with local_errors(url, path):
        if path.is_dir() or raw.endswith(("/", os.sep)):
            path = path / safe_name(url, request_id)
        if not path.parent.is_dir():
            raise InvalidParameterError("dest", f"the directory {path.parent} does not exist")
    return path.absolute()


def _place(partial: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        partial.replace(target)
        return
    try:
        # A hard link fails if the target appeared meanwhile: no window for clobbering it.
        os.link(partial, target)
    except FileExistsError:
        raise DestinationExistsError(str(target)) from None
    except OSError:
        if target.exists():
            raise DestinationExistsError(str(target)) from None
        partial.replace(target)


def _create_partial(target: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file beside `target`, under a random name, and open it for writing.

    Unlike ``tempfile.mkstemp`` (always 0600), the file is created with mode 0666 and the kernel
    takes the process's umask off it, so the finished video gets the mode any other tool's file
    would (0644 under umask 022); reading and restoring the umask instead would race other threads.
    O_EXCL makes the name ours alone: it never opens an existing file, nor follows a symlink.

    Raises:
        FileExistsError: every random name tried was taken.
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    for _ in range(_NAME_ATTEMPTS):
        partial = target.parent / f".{target.name[:_NAME_KEPT]}.{os.urandom(6).hex()}.part"
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


class Partial:
    """The temporary file a download writes into; every method reports local failures as DownloadError."""

    def __init__(self, handle: IO[bytes], path: Path, target: Path, url: str, overwrite: bool) -> None:
        self._handle = handle
        self._path = path
        self._target = target
        self._url = url
        self._overwrite = overwrite

    def write(self, chunk: bytes) -> None:
        """Append the whole of `chunk`.

        An unbuffered write may write only part of it (a file-size limit, a full disk): the rest is
        written too, so the failure surfaces as an error instead of a short file saved as complete.
        """
        # Once per chunk (16,384 per GiB): the usual whole write costs no context manager nor view.
        try:
            written = self._handle.write(chunk)
        except OSError as exc:
            raise _not_saved(self._url, self._target, exc) from exc
        if written != len(chunk):
            with local_errors(self._url, self._target):
                view = memoryview(chunk)[written or 0 :]
                while view:
                    written = self._handle.write(view)
                    if not written:
                        raise OSError(errno.EIO, "the file accepted no more bytes")
                    view = view[written:]

    def restart(self) -> None:
        """Empty the file, for a body that starts it over."""
        with local_errors(self._url, self._target):
            self._handle.seek(0)
            self._handle.truncate()

    def commit(self) -> None:
        """Flush the file to disk and move it into place."""
        with local_errors(self._url, self._target):
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            _place(self._path, self._target, self._overwrite)


@contextlib.contextmanager
def staged(target: Path, url: str, overwrite: bool) -> Iterator[Partial]:
    """A temporary file beside `target`, moved into place by its ``commit()``; removed on any failure.

    Raises:
        DestinationExistsError: `target` exists and `overwrite` is False.
        DownloadError: the temporary file could not be created.
    """
    with local_errors(url, target):
        if target.exists() and not overwrite:
            raise DestinationExistsError(str(target))
        descriptor, path = _create_partial(target)
    # Unbuffered: network chunks go straight to the file, without a second copy through a buffer.
    handle = open(descriptor, "wb", buffering=0)  # noqa: SIM115 - closed below, on every path
    try:
        yield Partial(handle, path, target, url, overwrite)
    finally:
        # After a commit the video lives on under `target` (hard link or rename); on failure, or
        # Ctrl-C, nothing half-written is left behind. Cleaning up never hides the first error.
        with contextlib.suppress(OSError):
            handle.close()
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.asynccontextmanager
async def astaged(target: Path, url: str, overwrite: bool) -> AsyncIterator[Partial]:
    """:func:`staged` for the async loop: creating the file, and closing and removing it, on a worker thread.

    Raises:
        DestinationExistsError: `target` exists and `overwrite` is False.
        DownloadError: the temporary file could not be created.
    """
    files = staged(target, url, overwrite)
    partial = await off_loop(files.__enter__, undo=lambda _: files.__exit__(None, None, None))
    try:
        yield partial
    except BaseException as exc:
        # staged() re-raises `exc` itself once its file is gone, here or, if it says so, below.
        if not await off_loop(functools.partial(files.__exit__, type(exc), exc, exc.__traceback__)):
            raise
    else:
        await off_loop(lambda: files.__exit__(None, None, None))
