"""The jobs file of ``qubrid-video batch``: read as bytes, each line checked on its own, output names made safe.

A line that cannot be decoded, parsed or validated becomes a :class:`Job` carrying its error (with
its line number): nothing is sent for it and the other lines still run. Everything here is checked
before the first request, so a bad line never costs a generation.

A line is known by what it asks for, not by where it is: its :attr:`Job.key` (fingerprint and
occurrence) keys the manifest and the Idempotency-Key, so inserting, deleting or moving lines
never makes a finished line look new.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

FIELDS = ("model", "prompt", "duration", "resolution", "fps", "aspect_ratio", "image", "audio", "draft",
          "save_audio", "prompt_upsampling")  # fmt: skip
DEFAULT_MODEL = "p-video"
MANIFEST = "manifest.jsonl"
# The download stages into ".NAME.XXXXXXXX.part" beside the target; 200 bytes leaves that room
# under the usual 255-byte limit of a file name.
MAX_OUTPUT_BYTES = 200
_TEXT = ("model", "prompt", "resolution", "aspect_ratio")
_POSITIVE = ("duration", "fps")
_FLAGS = ("draft", "save_audio", "prompt_upsampling")
_MEDIA = ("image", "audio")
# Control characters, line and paragraph separators, lone surrogates: invisible or unprintable in
# a file name, and some break the terminal or the manifest a name is shown in.
_BAD_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
_WINDOWS_RESERVED = frozenset('<>:"|?*')
# The device names of Windows's naming rules ("Naming Files, Paths, and Namespaces"), with the
# superscript digits it also reserves, and its console names (as ntpath.isreserved has them).
_PORTS = {f"{port}{digit}" for port in ("COM", "LPT") for digit in "123456789\u00b9\u00b2\u00b3"}
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *_PORTS})


class InvalidLine(Exception):
    """What is wrong with one line, worded for the user (the line number is added by the caller)."""


class _DuplicateKey(ValueError):
    """A JSON object gives one name twice: which value was meant is unknown, so neither is taken."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a name given twice (``json`` would keep the last value silently)."""
    data: dict[str, Any] = {}
    for name, value in pairs:
        if name in data:
            raise _DuplicateKey(name)
        data[name] = value
    return data


@attrs.define
class Job:
    """One non-blank line of the jobs file.

    Attributes:
        line: Its 1-based line number.
        output: The file name it is saved under, inside the output directory.
        fields: Arguments for ``videos.generate``: the model defaulted, media paths made absolute.
        fingerprint: Digest of what the line asks the API for (not its output name), so the
            manifest can tell a changed line from the one it recorded; "" when the line cannot say.
        occurrence: Which line with this fingerprint it is (1 for the first in the file), so that
            identical lines stay distinct videos.
        named: Whether the line gives its own "output".
        error: Why the line will not run, starting with ``line N:``; None when it is valid.
    """

    line: int
    output: str
    fields: dict[str, Any] = attrs.field(factory=dict)
    fingerprint: str = ""
    occurrence: int = 0
    named: bool = False
    error: str | None = None

    @property
    def key(self) -> str:
        """What the manifest knows the line by, wherever it moves in the file; "" without a fingerprint."""
        return f"{self.fingerprint}-{self.occurrence}" if self.fingerprint else ""

    def fail(self, message: str) -> None:
        """Mark the line invalid (the first problem found is the one reported)."""
        if self.error is None:
            self.error = f"line {self.line}: {message}"

    def idempotency_key(self, regeneration: str = "") -> str:
        """Stable across runs, so a server that honours it replays rather than re-bills a re-sent line.

        Args:
            regeneration: The expired video URL a deliberate new generation replaces; it changes
                the key, since a replay would only hand back the dead link.
        """
        seed = f"{self.key}\0{regeneration}"
        return "qv-batch-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def default_name(line: int, suffix: int = 1) -> str:
    """The output name of a line that names none (and has no name in the manifest)."""
    return f"line-{line:04d}.mp4" if suffix == 1 else f"line-{line:04d}-{suffix}.mp4"


def is_url(value: str) -> bool:
    """Whether the SDK sends `value` as a URL rather than uploading it as a file (the SDK's own rule)."""
    return "://" in value[:16] or value.lower().startswith(("data:", "mailto:"))


def parse_jobs(path: Path) -> list[Job]:
    """Read and check every line of the jobs file; invalid lines carry their error.

    The file is split on newline bytes only: U+2028 and the other separators ``str.splitlines`` knows
    are legal inside a JSON string and must not cut a line in two. Lines naming no output are
    named by :func:`name_outputs`, once the manifest is read.
    """
    jobs = []
    # A byte-order mark, which some editors write, is not part of the first line.
    for number, raw in enumerate(path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if raw.strip():
            jobs.append(_parse_line(number, raw.strip(), path.parent))
    counts: dict[str, int] = {}
    for job in jobs:
        if job.fingerprint:
            counts[job.fingerprint] = job.occurrence = counts.get(job.fingerprint, 0) + 1
    return jobs


def _parse_line(number: int, raw: bytes, base: Path) -> Job:
    job = Job(line=number, output=default_name(number))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        job.fail(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})")
        return job
    try:
        data = json.loads(text, object_pairs_hook=_unique)
    except _DuplicateKey as exc:
        job.fail(f"field {str(exc)[:80]!r} is given twice")
        return job
    except json.JSONDecodeError as exc:
        job.fail(f"invalid JSON ({exc.msg} at column {exc.colno})")
        return job
    except (ValueError, RecursionError) as exc:  # a number too long to convert, nesting too deep
        job.fail(f"invalid JSON ({type(exc).__name__}: {str(exc)[:80]})")
        return job
    try:
        job.fields, job.fingerprint, output = _validate(data, base)
        if output is not None:  # checked apart: a line with a bad name still counts among its twins
            job.output, job.named = check_name(output), True
    except InvalidLine as exc:
        job.fail(str(exc))
    return job


def _validate(data: object, base: Path) -> tuple[dict[str, Any], str, object]:
    """The line's generate arguments, their fingerprint, and its "output" (None when not given)."""
    if not isinstance(data, dict):
        raise InvalidLine(f"expected a JSON object, got {_kind(data)}")
    _check_encodable(data)
    if unknown := sorted(set(data) - set(FIELDS) - {"output"}):
        raise InvalidLine(f"unknown field {unknown[0]!r} (allowed: {', '.join(FIELDS)}, output)")
    given = {name: value for name, value in data.items() if value is not None}  # null: not given
    asked = {"model": DEFAULT_MODEL, **{name: given[name] for name in FIELDS if name in given}}
    fields = dict(asked)
    for name in _TEXT:
        if name in fields and not isinstance(fields[name], str):
            raise InvalidLine(f"{name}: expected a string, got {_kind(fields[name])}")
    if not fields["model"].strip():
        raise InvalidLine("model: must not be empty")
    for name in _POSITIVE:
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidLine(f"{name}: expected a positive whole number, got {_kind(value)}")
        if value is not None and value <= 0:
            raise InvalidLine(f"{name}: must be a positive whole number, got {value}")
    for name in _FLAGS:
        if name in fields and not isinstance(fields[name], bool):
            raise InvalidLine(f"{name}: expected true or false, got {_kind(fields[name])}")
    for name in _MEDIA:
        if name in fields:
            fields[name] = _media(name, fields[name], base)
    fingerprint = hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()[:32]
    return fields, fingerprint, given.get("output")


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages that must not echo the value itself."""
    if isinstance(value, bool):
        return "true/false"
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _check_encodable(data: dict[str, Any]) -> None:
    """Reject lone surrogates: JSON can escape them, but no request body or file name can carry them."""
    for key, value in data.items():
        for text in (key, value):
            if isinstance(text, str):
                bad = next((c for c in text if 0xD800 <= ord(c) <= 0xDFFF), None)
                if bad is not None:
                    raise InvalidLine(f"field {key!r} holds a lone surrogate (U+{ord(bad):04X}), which is not text")


def _media(name: str, value: object, base: Path) -> str:
    """Check an image/audio value: an http(s) URL, or a readable regular file (relative to the jobs file)."""
    if not isinstance(value, str) or not value:
        raise InvalidLine(f"{name}: expected a file path or an http(s) URL")
    if is_url(value):
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise InvalidLine(f"{name}: not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidLine(f"{name}: only http(s) URLs with a host are allowed, got {value[:80]!r}")
        return value
    if "\0" in value:
        raise InvalidLine(f"{name}: the path contains a NUL character")
    path = base / value
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidLine(f"{name}: no such file: {path}") from None
    except OSError as exc:
        raise InvalidLine(f"{name}: cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidLine(f"{name}: {path} is a directory; name a file")
    # A FIFO or device would block or stream forever once the upload started.
    if not stat.S_ISREG(info.st_mode):
        raise InvalidLine(f"{name}: {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InvalidLine(f"{name}: cannot read {path}: permission denied")
    return str(path)


def check_name(output: object) -> str:
    """An output must be a plain, visible, portable file name inside the output directory; returns it."""
    if not isinstance(output, str):
        raise InvalidLine(f"output: expected a file name (a string), got {_kind(output)}")
    if not output:
        raise InvalidLine("output: must not be empty")
    if "\0" in output:
        raise InvalidLine("output: contains a NUL character")
    if "/" in output or "\\" in output:
        raise InvalidLine(f"output: {output!r} must be a plain file name, without / or \\")
    if output.startswith("."):
        raise InvalidLine(f"output: {output!r} must not start with a dot")
    bad = next((c for c in output if unicodedata.category(c) in _BAD_CATEGORIES), None)
    if bad is not None:
        raise InvalidLine(f"output: {output!r} contains the control character U+{ord(bad):04X}")
    _check_windows_name(output)
    if (size := len(output.encode())) > MAX_OUTPUT_BYTES:
        raise InvalidLine(f"output: the name is {size} bytes long; at most {MAX_OUTPUT_BYTES}")
    return output


def _check_windows_name(output: str) -> None:
    """Refuse what Windows cannot hold, so the directory can be copied there (zip, share, sync) whole."""
    if (reserved := next((c for c in output if c in _WINDOWS_RESERVED), None)) is not None:
        raise InvalidLine(f"output: {output!r} contains {reserved!r}, which Windows does not allow in file names")
    if output.endswith((".", " ")):
        raise InvalidLine(f"output: {output!r} ends with a dot or a space, which Windows strips from file names")
    # Windows opens the device for these names, whatever the extension ("nul.mp4") and trailing spaces.
    if (stem := output.partition(".")[0].rstrip(" ").upper()) in _WINDOWS_DEVICES:
        raise InvalidLine(f"output: {output!r} is the Windows device name {stem}, whatever the extension")


def _fold(name: str) -> str:
    # Case- and normalisation-insensitive file systems (macOS, Windows) see these as one file.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _usable(name: object) -> bool:
    try:
        check_name(name)
    except InvalidLine:
        return False
    return True


def name_outputs(jobs: list[Job], recorded: Mapping[str, str]) -> None:
    """Name every valid line's output; fail a line whose own name another line holds.

    A line's own "output" is its name. A line naming none keeps the name the manifest recorded for
    it (`recorded`, by :attr:`Job.key`), so a line that moved keeps its file; otherwise it gets
    ``line-NNNN.mp4`` after where it is now, or ``line-NNNN-2.mp4``... when a kept name holds that.
    No two lines may write one file, and none may write the manifest or another line's default name.
    """
    valid = [job for job in jobs if not job.error]
    owners: dict[str, int] = {_fold(MANIFEST): 0}
    kept: set[int] = set()
    for job in valid:  # a recorded name comes first: its video may be on disk under it
        name = recorded.get(job.key)
        if name is not None and not job.named and _usable(name) and _fold(name) not in owners:
            job.output, owners[_fold(name)] = name, job.line
            kept.add(job.line)
    defaults = {_fold(default_name(job.line)): job.line for job in jobs if not job.named and job.line not in kept}
    for job in (job for job in valid if job.named):
        key = _fold(job.output)
        if key == _fold(MANIFEST):
            job.fail(f"output: {job.output!r} is the batch's own manifest")
        elif defaults.get(key, job.line) != job.line:
            job.fail(f"output: {job.output!r} is the default name of line {defaults[key]}")
        elif key in owners:
            job.fail(f"output: {job.output!r} is already the output of line {owners[key]}")
        else:
            owners[key] = job.line
    for job in valid:
        if not job.named and job.line not in kept:
            suffix = 1
            while _fold(default_name(job.line, suffix)) in owners:
                suffix += 1
            job.output = default_name(job.line, suffix)
            owners[_fold(job.output)] = job.line
