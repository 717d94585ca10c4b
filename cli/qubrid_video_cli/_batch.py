"""``qubrid-video batch``: one generation per JSONL line, concurrently, resumable, never paying twice.

The jobs file is checked whole before anything is sent (``_jobs``); each line's state lives in
``DIR/manifest.jsonl`` (``_ledger``), so a re-run after Ctrl-C, a crash, a full disk or a failed
download skips finished lines and downloads videos that were generated but not saved, without a
new generation request. A run holds ``DIR`` locked, so a second run on it cannot pay for the same
lines; each line fails alone, whatever it raises. ``--dry-run`` prints the plan (``_plan``) and
sends nothing; a run ends with the summary (``_summary``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import click
import qubrid_video as qv

from ._connect import client_settings
from ._exits import (
    BUSY,
    DOWNLOAD,
    EPILOG,
    FAILURE,
    RATE_LIMIT,
    USAGE,
    CommandError,
    describe,
    exit_status,
    printable_url,
    reported,
)
from ._jobs import MANIFEST, Job, name_outputs, parse_jobs
from ._ledger import WITH_VIDEO, Ledger, lock
from ._plan import DONE, INVALID, UNCERTAIN, Plan
from ._progress import Tally, say
from ._summary import Outcome, summarize

RATE_LIMIT_ROUNDS = 5
# The SDK stages a download in ".NAME.<12 hex digits>.part" beside the target, NAME being the
# target's name cut to 40 characters; a run killed outright (SIGKILL, power loss) leaves it behind.
_PART = re.compile(r"\.(.+)\.[0-9a-f]{12}\.part")
_PART_NAME_KEPT = 40
# A CDN link that answers these is gone (signed URLs expire); retrying the download cannot help.
EXPIRED_STATUSES = frozenset({403, 404, 410})
_ANSWERED = re.compile(r"the video URL answered HTTP (\d{3})(?!\d)")


@attrs.frozen
class Options:
    """How a run behaves (the command's flags)."""

    concurrency: int = 4
    retry_uncertain: bool = False
    regenerate_expired: bool = False
    max_wait: float = 60.0


class LineFailed(Exception):
    """One line failed; carries the ledger state it leaves and that state's details."""

    def __init__(self, status: str, message: str, *, exit_status: int, url: str | None = None,
                 request_id: str | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.exit_status, self.url, self.request_id = status, exit_status, url, request_id

    def details(self) -> dict[str, Any]:
        """The fields of the ledger record."""
        details: dict[str, Any] = {"error": str(self), "exit_status": self.exit_status, "request_id": self.request_id}
        if self.url is not None:
            details["url"] = self.url
        else:
            details["may_have_generated"] = False
        return details


class NotSent(Exception):
    """The run will not send this line's request (the message says why); nothing is recorded for it."""


class RateGate:
    """When the API says 429, every worker pauses until the wait it asked for has passed."""

    def __init__(self) -> None:
        self.resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold all new requests for `seconds`, saying so on stderr (once per pause, not per line that meets it)."""
        now = time.monotonic()
        if self.resume_at <= now or now + seconds >= self.resume_at + 1:
            say(f"qubrid-video: rate limited: pausing all lines for {_seconds(seconds)} s")
        self.resume_at = max(self.resume_at, now + seconds)

    async def wait(self) -> None:
        """Return once no pause is in force."""
        while (delay := self.resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)


def _seconds(value: float) -> str:
    """99999999.0 -> '99999999', 2.0 -> '2', 0.5 -> '0.5' (never '1e+08')."""
    return f"{value:.0f}" if value >= 10 else f"{value:g}"


def _link_status(error: BaseException) -> int | None:
    """The HTTP status the video link answered, when the download failed on one."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    # Without the attribute, the status is only in the SDK's own phrase, which starts its message;
    # anywhere else in the text it may be the server's (a Content-Range quoted in the error).
    match = _ANSWERED.match(str(error))
    return int(match.group(1)) if match else None


class Run:
    """One run's shared state: the client, the output directory, the ledger, the rate gate, the flags.

    Attributes:
        sent: The Idempotency-Key each line was sent with in this run, by :attr:`Job.key`.
    """

    def __init__(self, client: qv.AsyncQubrid, out: Path, ledger: Ledger, options: Options, outcome: Outcome) -> None:
        self.client, self.out, self.ledger, self.options, self.outcome = client, out, ledger, options, outcome
        self.gate = RateGate()
        self.sent: dict[str, str] = {}

    async def line(self, job: Job) -> None:
        """Bring one line to ``done``: download its stored video if the ledger has one, else generate it."""
        entry = self.ledger.entry(job)
        url = entry.get("url") if entry.get("status") in WITH_VIDEO else None
        if url is not None and not (entry.get("status") == "expired" and self.options.regenerate_expired):
            stored = qv.AsyncVideo(url=url, created=None, request_id=entry.get("request_id"),
                                   downloader=self.client.downloader)  # fmt: skip
            try:
                await self._download(stored, job)
                return
            except LineFailed as failure:
                if failure.status != "expired" or not self.options.regenerate_expired:
                    raise
        video = await self._generate(job, regeneration=url or "")
        self.ledger.record(job, "generated", request_id=video.request_id, url=video.url)
        await self._download(video, job)

    def _key(self, job: Job, regeneration: str) -> str:
        """The line's Idempotency-Key: the one it was last sent with, when no video came of it, so a re-send replays."""
        entry = self.ledger.entry(job)
        recorded = entry.get("idempotency_key")
        if entry.get("status") in ("sending", "failed") and isinstance(recorded, str) and recorded:
            return recorded
        return job.idempotency_key(regeneration)

    def _sending(self, job: Job, key: str) -> None:
        """Record that the line's request goes out now, before it does; refuse it if that cannot be recorded.

        Raises:
            NotSent: The batch stopped sending (a 401 or 402), or the record could not be written.
        """
        if self.outcome.stop is not None:
            raise NotSent(f"line {job.line}: not sent: the batch stopped at the first "
                          f"{self.outcome.stop.status_code} answer")  # fmt: skip
        if not self.ledger.broken:
            self.ledger.record(job, "sending", idempotency_key=key)
        if self.ledger.broken:
            raise NotSent(f"line {job.line}: not sent: the manifest cannot be written ({self.ledger.broken}), "
                          "so what it would cost could not be recorded")  # fmt: skip
        self.sent[job.key] = key

    async def _generate(self, job: Job, *, regeneration: str) -> qv.AsyncVideo:
        key, max_wait = self._key(job, regeneration), self.options.max_wait
        for round_ in range(RATE_LIMIT_ROUNDS):
            await self.gate.wait()
            self._sending(job, key)
            try:
                return await self.client.videos.generate(**job.fields, extra_headers={"Idempotency-Key": key})
            except (qv.AuthenticationError, qv.InsufficientCreditsError) as error:
                # The same answer awaits every other line: sending them would only repeat it.
                self.outcome.stop = self.outcome.stop or error
                raise
            except qv.RateLimitError as error:
                asked = error.retry_after
                if asked is not None and asked > max_wait:
                    message = (f"line {job.line}: rate limited: the API asked to wait {_seconds(asked)} s before the "
                               f"next request (more than --max-wait {_seconds(max_wait)} s); no video was made "
                               "(a 429 is not billed); re-run later")  # fmt: skip
                    raise LineFailed("failed", message, exit_status=RATE_LIMIT, request_id=error.request_id) from error
                if round_ == RATE_LIMIT_ROUNDS - 1:
                    raise
                # A 429 made nothing: while the batch waits, the line is not in flight (nor billed).
                self.ledger.record(job, "failed", error=f"line {job.line}: rate limited; the batch was waiting to send "
                                   "it again", exit_status=RATE_LIMIT, request_id=error.request_id,
                                   may_have_generated=False, idempotency_key=key)  # fmt: skip
                self.gate.pause(asked if asked is not None else min(max_wait, 2.0 ** (round_ + 1)))
        raise AssertionError("unreachable: the last round returns or raises")  # pragma: no cover

    async def _download(self, video: qv.AsyncVideo, job: Job) -> None:
        target = self.out / job.output
        try:
            path = await video.download(target, overwrite=False)
        except Exception as error:  # the video is paid for: whatever went wrong, its URL must be kept
            raise _not_saved(video, job, target, error) from error
        self.ledger.record(job, "done", request_id=video.request_id, url=video.url, output=job.output, path=str(path),
                           size=path.stat().st_size)  # fmt: skip


def _not_saved(video: qv.AsyncVideo, job: Job, target: Path, error: Exception) -> LineFailed:
    """The failure of a generated video's download: ``expired`` when its link is gone, else ``download_failed``."""
    status = _link_status(error) if isinstance(error, qv.DownloadError) else None
    if status in EXPIRED_STATUSES:
        message = f"line {job.line}: the video link has expired (HTTP {status}): {printable_url(video.url)}"
        return LineFailed("expired", message, exit_status=DOWNLOAD, url=video.url, request_id=video.request_id)
    if isinstance(error, qv.DestinationExistsError):
        reason = f"{target} already exists (it appeared during the download); move it away and run again"
    elif isinstance(error, qv.QubridError):
        reason = describe(error)
    elif isinstance(error, OSError):  # a plain OSError is the local side: a full disk, a file size limit
        reason = f"cannot write {target}: {error.strerror or error}"
    else:  # what the SDK did not wrap: a URL httpx refuses, a redirect loop...
        reason = f"{type(error).__name__}: {error}"
    return LineFailed("download_failed", f"line {job.line}: generated but not saved: {reason}",
                      exit_status=DOWNLOAD, url=video.url, request_id=video.request_id)  # fmt: skip


async def run_batch(jobs: list[Job], plan: Plan, ledger: Ledger, out: Path, *, options: Options,
                    settings: dict[str, Any], outcome: Outcome) -> None:  # fmt: skip
    """Run every line the plan says to generate or download, at most ``options.concurrency`` at once.

    What the ledger does not hold (the lines not sent, and why) goes into `outcome`, which is
    complete even when Ctrl-C or SIGTERM ends the run early.
    """
    todo = [job for job in jobs if plan.kinds[job.line] not in (DONE, UNCERTAIN, INVALID)]
    tally = Tally(len(todo))
    slots = asyncio.Semaphore(options.concurrency)

    def fail(run: Run, job: Job, **details: Any) -> None:
        key = run.sent.get(job.key)  # a failure after a request keeps its key, for a re-send to replay it
        ledger.record(job, "failed", **details, **({"idempotency_key": key} if key else {}))

    async def one(run: Run, job: Job) -> None:
        async with slots:
            tally.start()
            try:
                await run.line(job)
            except NotSent as reason:
                outcome.not_sent[job.line] = str(reason)
                tally.finish(ok=False)
            except LineFailed as failure:
                if failure.status == "failed":
                    fail(run, job, **failure.details())
                else:
                    ledger.record(job, failure.status, **failure.details())
                tally.finish(ok=False)
            except (qv.QubridError, OSError) as error:
                fail(run, job, error=f"line {job.line}: {describe(error)}", exit_status=exit_status(error),
                     request_id=getattr(error, "request_id", None),
                     may_have_generated=bool(getattr(error, "may_have_generated", False)))  # fmt: skip
                tally.finish(ok=False)
            except Exception as error:  # one line's surprise must not cancel the others (Ctrl-C still does)
                # Raised around the generation request: whether it was billed is unknown.
                message = f"line {job.line}: unexpected error: {type(error).__name__}: {error}"
                fail(run, job, error=message, exit_status=FAILURE, request_id=None, may_have_generated=True)
                tally.finish(ok=False)
            else:
                tally.finish(ok=True)

    try:
        async with qv.AsyncQubrid(**settings) as client:
            run = Run(client, out, ledger, options, outcome)
            await asyncio.gather(*(one(run, job) for job in todo))
    finally:
        tally.close()


@click.command(
    epilog=EPILOG + " 13 another batch is running on --out (nothing was sent). "
    "A batch exits 11 also when a line was skipped as possibly billed (it has no video), and 3 or 4 when a 401 "
    "or 402 stopped it. With --dry-run: 0 when every line is valid, 2 when some line is not."
)
@click.argument("jobs_file", metavar="JOBS.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for videos and the manifest (created if missing).")  # fmt: skip
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 1000), help="Generations at once.")
@click.option("--retry-uncertain", is_flag=True,
              help="Also re-send lines that may have been billed without a video "
                   "(a 500, a run stopped in flight).")  # fmt: skip
@click.option("--regenerate-expired", is_flag=True,
              help="Generate again lines whose saved video link has expired (costs credits).")  # fmt: skip
@click.option("--max-wait", default=60.0, show_default=True, type=click.FloatRange(0, 86400), metavar="SECONDS",
              help="Longest rate-limit wait to honour; a line asked to wait longer fails.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Check every line and print what a run would send; send nothing.")
@click.option("--emulator", is_flag=True, help="Use the built-in emulator (no key, no network, no cost).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def batch(*, jobs_file: Path, out: Path, dry_run: bool, emulator: bool, debug: bool, **flags: Any) -> None:
    """Generate one video per line of JOBS.jsonl into --out, resumably.

    Each line is a JSON object with the fields of `generate` (model defaults to p-video; image and
    audio paths are relative to the jobs file) and an optional "output" file name. Every line is
    checked before anything is sent; a bad line is reported by number and the others still run.
    Re-running the same command skips finished lines and downloads generated-but-unsaved videos
    without generating them again.
    """
    options = Options(**flags)
    with reported(debug):
        if dry_run:  # reads only: no lock, so it can watch a run in progress
            jobs, ledger, plan = _plan(jobs_file, out, options)
            for job in jobs:
                if job.error:
                    click.echo(job.error)
            click.echo(plan.describe())
            sys.exit(USAGE if plan.count(INVALID) else 0)
        with client_settings(emulator) as settings, _alone(out):
            # Read the ledger only once it is ours: another run may have been writing it until now.
            jobs, ledger, plan = _plan(jobs_file, out, options)
            _remove_stale_parts(out, jobs)
            click.echo(plan.describe(), err=True)
            outcome = Outcome()
            try:
                asyncio.run(run_batch(jobs, plan, ledger, out, options=options, settings=settings, outcome=outcome))
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the table first, then the usual report and status
                summarize(jobs, plan, ledger, outcome)
                raise
            status = summarize(jobs, plan, ledger, outcome)
        sys.exit(status)


def _plan(jobs_file: Path, out: Path, options: Options) -> tuple[list[Job], Ledger, Plan]:
    jobs = parse_jobs(jobs_file)
    ledger = Ledger(out / MANIFEST)
    ledger.adopt(jobs)
    name_outputs(jobs, ledger.outputs())
    plan = Plan.make(jobs, ledger, out, retry_uncertain=options.retry_uncertain,
                     regenerate_expired=options.regenerate_expired)  # fmt: skip
    return jobs, ledger, plan


def _remove_stale_parts(out: Path, jobs: list[Job]) -> None:
    """Delete the temporary files earlier runs left for this batch's own outputs (only while holding the lock).

    No other run can be writing them: the lock is ours, and a download removes its own temporary
    file however it ends, unless the process was killed outright.
    """
    ours = {job.output[:_PART_NAME_KEPT] for job in jobs}
    removed = 0
    with os.scandir(out) as entries:
        for entry in entries:
            match = _PART.fullmatch(entry.name)
            if match and match.group(1) in ours and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):  # gone already, or not ours to delete: not worth stopping for
                    os.unlink(entry.path)
                    removed += 1
    if removed:
        click.echo(f"qubrid-video: removed {removed} temporary file{'s' if removed > 1 else ''} left by an "
                   "earlier run", err=True)  # fmt: skip


@contextlib.contextmanager
def _alone(out: Path) -> Iterator[None]:
    """Hold --out for the whole run: a second run on it would pay again for every line still to do.

    Missing directories are created (a batch's folder is often new); one that cannot be is a usage
    error, found before anything is sent.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--out: cannot create {out} ({exc.strerror or exc})", USAGE) from None
    try:
        descriptor = lock(out / MANIFEST)
    except BlockingIOError:
        raise CommandError(f"another batch is running on {out} (it holds {out / MANIFEST}); "
                           "wait for it to end, or choose another --out", BUSY) from None  # fmt: skip
    except OSError as exc:
        raise CommandError(f"--out: cannot create {out / MANIFEST} ({exc.strerror or exc})", USAGE) from None
    try:
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)
