"""What a batch run will do with each line, decided before anything is sent, and the line that says so.

``--dry-run`` prints that line and stops; a real run prints it first (on stderr), then runs it.
"""

from __future__ import annotations

import math
import os
import re
import wave
from pathlib import Path

import attrs

from ._jobs import Job, is_url
from ._ledger import WITH_VIDEO, Ledger

GENERATE = "generate"  # send a generation request (it costs credits), then download
DOWNLOAD = "download"  # the ledger holds the video's URL: download only
DONE = "done"  # the video is saved already
UNCERTAIN = "uncertain"  # sent, and may have been billed, but no video came back; needs --retry-uncertain
INVALID = "invalid"  # not sent: the line, or its output, is not valid
# What the API does when a line leaves them out (the defaults its examples and the emulator use).
DEFAULT_SECONDS = 5
DEFAULT_RESOLUTION = "720p"


def wav_seconds(path: Path) -> int | None:
    """A WAV file's length in whole seconds (rounded up) from its header alone, or None if it is no WAV."""
    try:
        with wave.open(str(path), "rb") as audio:
            frames, rate = audio.getnframes(), audio.getframerate()
    except (wave.Error, EOFError, OSError, ValueError):
        return None
    return math.ceil(frames / rate) if rate > 0 else None


def requested_seconds(job: Job) -> tuple[int, bool]:
    """Seconds of video a line asks for, and whether that is known rather than assumed.

    An explicit duration is what is asked for. Without one, a local WAV audio input's length
    stands in (the video is made to carry the audio); audio whose length cannot be read cheaply
    (another format, a URL) is counted at the default 5 s, and flagged as a guess.
    """
    duration = job.fields.get("duration")
    if isinstance(duration, int):
        return duration, True
    audio = job.fields.get("audio")
    if not isinstance(audio, str):
        return DEFAULT_SECONDS, True
    length = None if is_url(audio) else wav_seconds(Path(audio))
    return (length, True) if length is not None else (DEFAULT_SECONDS, False)


def _holds_its_video(entry: dict[str, object], job: Job, target: Path) -> bool:
    recorded = entry.get("output") or Path(str(entry.get("path") or "")).name
    size = entry.get("size")
    if recorded != job.output or not target.is_file():
        return False
    return not isinstance(size, int) or target.stat().st_size == size


def classify(job: Job, ledger: Ledger, out: Path, *, retry_uncertain: bool, regenerate_expired: bool) -> str:
    """What to do with one line, given the ledger and what is on disk; marks the line invalid if need be."""
    if job.error:
        return INVALID
    entry = ledger.entry(job)
    status = entry.get("status")
    target = out / job.output
    if status == "done" and _holds_its_video(entry, job, target):
        return DONE
    if os.path.lexists(target):
        job.fail(f"{target} already exists and the manifest does not record it as this line's video; "
                 "move it away or choose another output")  # fmt: skip
        return INVALID
    if status == "expired" and regenerate_expired:
        return GENERATE
    if status in WITH_VIDEO:
        return DOWNLOAD
    if may_be_billed(entry) and not retry_uncertain:
        return UNCERTAIN
    return GENERATE


def may_be_billed(entry: dict[str, object]) -> bool:
    """Whether a line's record says it has no video but its generation may have been billed.

    That is a request stopped in flight (``sending``), or a failure after which the API may have
    generated the video (a 500, a lost connection...).
    """
    status = entry.get("status")
    return status == "sending" or (status == "failed" and bool(entry.get("may_have_generated")))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _resolution_order(name: str) -> tuple[int, str]:
    digits = re.match(r"\d+", name)
    return (int(digits.group()) if digits else 1 << 30, name)


@attrs.define
class Plan:
    """Each line's kind of work, and the video a run would ask the API for.

    Attributes:
        kinds: Line number to GENERATE, DOWNLOAD, DONE, UNCERTAIN or INVALID.
        seconds: Seconds of video to generate, per resolution.
        guessed: Lines to generate whose length is assumed (audio of unknown length, no duration).
    """

    kinds: dict[int, str]
    seconds: dict[str, int]
    guessed: int

    @classmethod
    def make(cls, jobs: list[Job], ledger: Ledger, out: Path, *, retry_uncertain: bool,
             regenerate_expired: bool) -> Plan:  # fmt: skip
        """Classify every line and add up what the generations ask for."""
        kinds: dict[int, str] = {}
        seconds: dict[str, int] = {}
        guessed = 0
        for job in jobs:
            kind = classify(job, ledger, out, retry_uncertain=retry_uncertain, regenerate_expired=regenerate_expired)
            kinds[job.line] = kind
            if kind == GENERATE:
                length, known = requested_seconds(job)
                resolution = str(job.fields.get("resolution") or DEFAULT_RESOLUTION)
                seconds[resolution] = seconds.get(resolution, 0) + length
                guessed += not known
        return cls(kinds=kinds, seconds=seconds, guessed=guessed)

    def count(self, kind: str) -> int:
        """How many lines are of `kind`."""
        return sum(1 for value in self.kinds.values() if value == kind)

    def describe(self) -> str:
        """One line: ``batch plan: 3 generations (720p: 15 s, 1080p: 10 s), 1 download only, ...``."""
        text = f"batch plan: {_plural(self.count(GENERATE), 'generation')}"
        if self.seconds:
            per = ", ".join(f"{name}: {self.seconds[name]} s" for name in sorted(self.seconds, key=_resolution_order))
            text += f" ({per})"
        extras = [(DOWNLOAD, "{} download only"), (DONE, "{} already done"),
                  (UNCERTAIN, "{} skipped (may have been billed; --retry-uncertain re-sends)"),
                  (INVALID, "{} invalid")]  # fmt: skip
        text += "".join(f", {template.format(self.count(kind))}" for kind, template in extras if self.count(kind))
        if self.guessed:
            text += f"; {_plural(self.guessed, 'line')} with audio of unknown length counted at {DEFAULT_SECONDS} s"
        return text
