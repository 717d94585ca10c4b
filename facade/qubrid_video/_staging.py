"""The file side of a download: a temporary file beside the target, moved into place only when whole."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ._errors import DestinationExistsError, InvalidParameterError, ParameterTypeError
from ._transfer import safe_name

_NAME_ATTEMPTS = 100  # names carry 48 random bits: even one clash is unlikely


def destination(dest: object, url: str, request_id: str | None) -> Path:
    """The file to write: `dest` itself, or a safe name from the URL inside `dest` when it is a directory."""
    if not isinstance(dest, str | os.PathLike):
        raise ParameterTypeError("dest", f"expected a file or directory path, got {type(dest).__name__}")
    raw = os.fspath(dest)
    if not isinstance(raw, str) or not raw:
        raise InvalidParameterError("dest", "expected a non-empty file or directory path")
    path = Path(raw)
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
        partial = target.parent / f".{target.name}.{os.urandom(6).hex()}.part"
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


@contextlib.contextmanager
def staged(target: Path, overwrite: bool) -> Iterator[tuple[IO[bytes], Callable[[], None]]]:
    """A temporary file beside `target`, and a function that moves it into place; removed on any failure."""
    if target.exists() and not overwrite:
        raise DestinationExistsError(str(target))
    descriptor, partial = _create_partial(target)
    # Unbuffered: network chunks go straight to the file, without a second copy through a buffer.
    handle = open(descriptor, "wb", buffering=0)  # noqa: SIM115 - closed below, on every path

    def commit() -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        _place(partial, target, overwrite)

    try:
        yield handle, commit
    finally:
        # After a commit the video lives on under `target` (hard link or rename); on failure, or
        # Ctrl-C, nothing half-written is left behind.
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
