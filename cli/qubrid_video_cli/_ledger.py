"""The batch's ledger, ``DIR/manifest.jsonl``: what happened to each line, so that no video is paid for twice.

Each change of a line's state appends one JSON record (the last record of a line wins)::

    sending          the generation request is about to go out (idempotency_key); written and fsynced
                     before it does, so a run stopped in any way while the request was in flight
                     (Ctrl-C, SIGTERM, SIGKILL, a power cut) leaves this record: the line may have
                     been billed, and a re-run sends it again only with ``--retry-uncertain`` (with
                     the same key, so an API that honours it replays instead of billing again)
    generated        the API returned a video (url, request_id) that is not saved yet
    done             the video is saved (url, request_id, output, path, size)
    download_failed  the video was generated but not saved (url, request_id, error): a re-run
                     downloads it, and sends no generation request
    expired          the video's link answered 403, 404 or 410 (url, request_id, error): only
                     ``--regenerate-expired`` generates it again
    failed           no video came back (error, exit_status, request_id, may_have_generated, and the
                     idempotency_key when a request was sent)

A record is keyed by what its line asks for, not by where the line is: ``key`` is the line's
fingerprint and its occurrence among identical lines (:attr:`Job.key`), so a line that moved
(lines inserted or deleted above it) finds its record, and an edited line does not find the
record of its old content. Each record also holds the line's number then (``line``), its
``fingerprint``, ``occurrence`` and ``output``. Records are appended and fsynced one by one, so a
crash loses at most the record being written; an unreadable line (cut short by that crash, or
garbage) is skipped with a warning.

Manifests written before records had a ``key`` keyed them by line number; :meth:`Ledger.adopt`
gives each such record to the line at its number if that line still asks for the same, else to
the next line (in file order) asking for the same that has no record yet.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import click

from ._jobs import Job

if sys.platform != "win32":
    import fcntl

STATES = frozenset({"sending", "generated", "done", "download_failed", "expired", "failed"})
# States in which the API has already produced (and billed) a video, whose URL the record holds.
WITH_VIDEO = frozenset({"generated", "done", "download_failed", "expired"})


def _valid(record: object) -> bool:
    if not isinstance(record, dict):
        return False
    line, status = record.get("line"), record.get("status")
    if isinstance(line, bool) or not isinstance(line, int) or line < 1 or status not in STATES:
        return False
    if status in WITH_VIDEO and not isinstance(record.get("url"), str):
        return False
    # A record of an older manifest has no key, but its fingerprint and line number stand for one.
    if not any(isinstance(record.get(name), str) and record[name] for name in ("key", "fingerprint")):
        return False
    return all(
        isinstance(record.get(name), str | None) for name in ("key", "request_id", "fingerprint", "output", "path")
    )


class Ledger:
    """The manifest of one output directory: read once, then appended to as lines change state.

    Attributes:
        path: The manifest file.
        state: The last readable record of each line, by :attr:`Job.key`.
        broken: Why the manifest could not be written, once that happened (the run then sends no
            new generation: it could not record what it paid for).
        changed: The keys of the lines this run recorded a state for.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state: dict[str, dict[str, Any]] = {}
        self.broken: str | None = None
        self.changed: set[str] = set()
        self._by_line: dict[int, dict[str, Any]] = {}  # records of an older manifest, until adopt()
        self._ends_with_newline = True
        if path.exists():
            self._load(path.read_bytes())

    def _load(self, data: bytes) -> None:
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
                record = None
            if not _valid(record):
                click.echo(f"qubrid-video: warning: {self.path} line {number} is not a readable record "
                           "(cut short by a crash?); skipped", err=True)  # fmt: skip
                continue
            if record.get("key"):
                self.state[record["key"]] = record
            else:
                self._by_line[record["line"]] = record
        # A record cut short has no newline; the next one must not be glued onto it.
        self._ends_with_newline = not data or data.endswith(b"\n")

    def adopt(self, jobs: list[Job]) -> None:
        """Give the records of an older manifest, keyed by line number, to the lines they were made for.

        A record goes to the line now at its number when that line asks for the same (the usual
        case: the file did not change); the others go, in file order, to the lines asking for the
        same that have no record yet. A record with a key is newer than all of them, and wins.
        """
        at = {job.line: job for job in jobs if job.key}
        left = []
        for line, record in sorted(self._by_line.items()):
            job = at.get(line)
            if job is not None and job.fingerprint == record["fingerprint"] and job.key not in self.state:
                self.state[job.key] = record
            else:
                left.append(record)
        waiting: defaultdict[str, deque[Job]] = defaultdict(deque)
        for job in jobs:
            if job.key and job.key not in self.state:
                waiting[job.fingerprint].append(job)
        for record in left:
            if waiting[record["fingerprint"]]:
                self.state[waiting[record["fingerprint"]].popleft().key] = record
        self._by_line = {}

    def entry(self, job: Job) -> dict[str, Any]:
        """The line's last record, or {} when there is none (or the line cannot be known: it does not parse)."""
        return self.state.get(job.key, {}) if job.key else {}

    def outputs(self) -> dict[str, str]:
        """The output name each line's last record holds, by :attr:`Job.key`."""
        return {key: record["output"] for key, record in self.state.items() if isinstance(record.get("output"), str)}

    def record(self, job: Job, status: str, **fields: Any) -> None:
        """Append the line's new state (and fsync it); on a write failure, keep it in memory and mark the ledger broken.

        Args:
            job: The line.
            status: One of :data:`STATES`.
            **fields: The state's details (url, request_id, error...).
        """
        entry = {"key": job.key, "line": job.line, "fingerprint": job.fingerprint, "occurrence": job.occurrence,
                 "output": job.output, "status": status, **fields}  # fmt: skip
        self.state[job.key] = entry
        self.changed.add(job.key)
        # ensure_ascii (the default) keeps every record one line of plain ASCII, whatever it holds.
        data = json.dumps(entry).encode() + b"\n"
        if not self._ends_with_newline:
            data = b"\n" + data
        try:
            with self.path.open("ab") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.broken = self.broken or f"{self.path}: {exc.strerror or exc}"
            self._ends_with_newline = False  # part of the record may have reached the file
            return
        self._ends_with_newline = True


def lock(path: Path) -> int | None:
    """Open the manifest at `path` (creating it) and lock it, so that one run at a time can pay for its lines.

    The lock is advisory (``flock``): it stops other batch runs, and lasts until the descriptor is
    closed or the process ends, however it ends.

    Returns:
        The descriptor holding the lock, to close when the run ends; None on Windows, or where the
        file system cannot lock (after a warning).

    Raises:
        BlockingIOError: another process holds the lock.
    """
    if sys.platform == "win32":  # no flock there; the README says so
        return None
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise
    except OSError as exc:
        os.close(descriptor)
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
            raise
        click.echo(f"qubrid-video: warning: cannot lock {path} ({exc.strerror}); nothing stops a second "
                   "batch run on this directory from paying for the same lines", err=True)  # fmt: skip
        return None
    return descriptor
