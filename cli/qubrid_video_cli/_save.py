"""Where a video goes: the destination checked before anything is paid for, then the download itself.

``generate`` checks ``-o`` before it sends the request, so a destination that could never be
written (an existing file without ``--overwrite``, a missing or unwritable directory, a path
through a file) is refused while refusing is still free. A missing directory is refused rather
than created: a typo in ``-o`` should not leave new directories behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
import qubrid_video as qv

from ._exits import DOWNLOAD, USAGE, CommandError, free_name, printable
from ._names import LONGEST, default_name
from ._progress import Bar, human_bytes

TIMEOUT_HELP = "Seconds allowed for the whole {what} (default: 900)."


def check_destination(output: str, *, overwrite: bool) -> Path:
    """The path to pass to ``download()``, once it is certain a video could be saved there.

    Raises:
        CommandError: `output` cannot receive the video (exit status 2), or it names an existing
            file and `overwrite` is False (exit status 10).
    """
    if not output or "\0" in output:
        raise CommandError("-o: expected a file or directory path", USAGE)
    path = Path(output)
    if is_directory(output):
        directory = path
    else:
        directory = path.parent
        if directory.is_dir() and (path.exists() or path.is_symlink()):
            if not path.is_file():
                raise CommandError(f"-o: {path} exists and is not a regular file", USAGE)
            if not overwrite:
                raise CommandError(f"-o: {path} already exists; pass --overwrite to replace it", DOWNLOAD)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist (create it first)"
        raise CommandError(f"-o: {directory} {what}", USAGE)
    # A real file named as long as the download's temporary one will be (".NAME.<12 hex>.part"), or
    # as the longest name `generate` gives in a directory: permissions, read-only mounts and names
    # too long for the file system all show now.
    probe = "x" * (len(path.name.encode()) + 6) if directory is not path else "x" * LONGEST
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{probe}.", suffix=".part"):
            pass
    except OSError as exc:
        raise CommandError(f"-o: cannot create a file in {directory} ({exc.strerror or exc})", USAGE) from None
    return path


def is_directory(output: str) -> bool:
    """Whether ``-o`` names a directory (an existing one, or any path ending in a separator)."""
    return Path(output).is_dir() or output.endswith(("/", os.sep))


def named(directory: Path, video: qv.Video, prompt: str, *, overwrite: bool) -> Path:
    """Where `generate` saves `video` in `directory`: ``<prompt-slug>-<request id>.mp4``.

    The name is the command's choice, not the user's, so when a file already has it the video
    takes the first free ``NAME-2.mp4``... beside it rather than failing after the generation was
    paid for; only ``--overwrite`` replaces it.
    """
    path = directory / default_name(prompt, video.request_id, video.url)
    return path if overwrite else free_name(path)


def save(video: qv.Video, target: Path, *, overwrite: bool, as_json: bool, timeout: float | None = None) -> None:
    """Download `video` to `target` with a progress bar, then print the result line (or object)."""
    with Bar("downloading") as bar:
        path = video.download(target, overwrite=overwrite, progress=bar, timeout=timeout)
    size = path.stat().st_size
    if as_json:
        result = {"path": str(path), "size": size, "url": video.url, "request_id": video.request_id,
                  "created": video.created.isoformat() if video.created else None}  # fmt: skip
        click.echo(json.dumps(result))
    else:
        request = f", request {printable(video.request_id)}" if video.request_id else ""
        click.echo(f"saved {path} ({human_bytes(size)}){request}")
