"""``qubrid-video batch``: one generation per JSONL line, concurrently, resumable, never paying twice.

The jobs file is checked whole before anything is sent (``_jobs``); each line's state lives in
``DIR/manifest.jsonl`` (``_ledger``), so a re-run after Ctrl-C, a crash, a full disk or a failed
download skips finished lines and downloads videos that were generated but not saved, without a
new generation request. ``--dry-run`` prints the plan (``_plan``) and sends nothing.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import click
import qubrid_video as qv

from ._connect import client_settings
from ._exits import BATCH_FAILED, DOWNLOAD, EPILOG, FAILURE, RATE_LIMIT, USAGE, describe, exit_status, reported
from ._jobs import MANIFEST, Job, parse_jobs
from ._ledger import WITH_VIDEO, Ledger
from ._plan import DONE, INVALID, UNCERTAIN, Plan
from ._progress import Tally

RATE_LIMIT_ROUNDS = 5
# A CDN link that answers these is gone (signed URLs expire); retrying the download cannot help.
EXPIRED_STATUSES = frozenset({403, 404, 410})


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


class RateGate:
    """When the API says 429, every worker pauses until the wait it asked for has passed."""

    def __init__(self) -> None:
        self.resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold all new requests for `seconds`."""
        self.resume_at = max(self.resume_at, time.monotonic() + seconds)

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
    if isinstance(status, int):
        return status
    # The SDK's DownloadError says the status only in its message: "the video URL answered HTTP 404".
    match = re.search(r"\bHTTP (\d{3})\b", str(error))
    return int(match.group(1)) if match else None


class Run:
    """One run's shared state: the client, the output directory, the ledger, the rate gate, the flags."""

    def __init__(self, client: qv.AsyncQubrid, out: Path, ledger: Ledger, options: Options) -> None:
        self.client, self.out, self.ledger, self.options = client, out, ledger, options
        self.gate = RateGate()

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

    async def _generate(self, job: Job, *, regeneration: str) -> qv.AsyncVideo:
        if self.ledger.broken:
            message = f"line {job.line}: not sent: the manifest cannot be written ({self.ledger.broken})"
            raise LineFailed("failed", message + ", so what it cost could not be recorded", exit_status=FAILURE)
        key, max_wait = job.idempotency_key(regeneration), self.options.max_wait
        for round_ in range(RATE_LIMIT_ROUNDS):
            await self.gate.wait()
            try:
                return await self.client.videos.generate(**job.fields, extra_headers={"Idempotency-Key": key})
            except qv.RateLimitError as error:
                asked = error.retry_after
                if asked is not None and asked > max_wait:
                    message = (f"line {job.line}: the API asked to wait {_seconds(asked)} s before the next request, "
                               f"more than --max-wait {_seconds(max_wait)} s; not sent, re-run later")  # fmt: skip
                    raise LineFailed("failed", message, exit_status=RATE_LIMIT, request_id=error.request_id) from error
                if round_ == RATE_LIMIT_ROUNDS - 1:
                    raise
                self.gate.pause(asked if asked is not None else min(max_wait, 2.0 ** (round_ + 1)))
        raise AssertionError("unreachable: the last round returns or raises")  # pragma: no cover

    async def _download(self, video: qv.AsyncVideo, job: Job) -> None:
        target = self.out / job.output
        try:
            path = await video.download(target, overwrite=False)
        except (qv.QubridError, OSError) as error:
            status = _link_status(error) if isinstance(error, qv.DownloadError) else None
            if status in EXPIRED_STATUSES:
                message = f"line {job.line}: the video link has expired (HTTP {status}): {video.url}"
                raise LineFailed("expired", message, exit_status=DOWNLOAD, url=video.url,
                                 request_id=video.request_id) from error  # fmt: skip
            if isinstance(error, qv.DestinationExistsError):
                reason = f"{target} already exists (it appeared during the download); move it away and run again"
            elif isinstance(error, qv.QubridError):
                reason = describe(error)
            else:  # a plain OSError is the local side: a full disk, a file size limit
                reason = f"cannot write {target}: {error.strerror or error}"
            raise LineFailed("download_failed", f"line {job.line}: generated but not saved: {reason}",
                             exit_status=DOWNLOAD, url=video.url, request_id=video.request_id) from error  # fmt: skip
        self.ledger.record(job, "done", request_id=video.request_id, url=video.url, output=job.output, path=str(path),
                           size=path.stat().st_size)  # fmt: skip


async def run_batch(jobs: list[Job], plan: Plan, ledger: Ledger, out: Path, *, options: Options,
                    settings: dict[str, Any]) -> None:  # fmt: skip
    """Run every line the plan says to generate or download, at most ``options.concurrency`` at once."""
    todo = [job for job in jobs if plan.kinds[job.line] not in (DONE, UNCERTAIN, INVALID)]
    tally = Tally(len(todo))
    slots = asyncio.Semaphore(options.concurrency)

    async def one(run: Run, job: Job) -> None:
        async with slots:
            tally.start()
            try:
                await run.line(job)
            except LineFailed as failure:
                ledger.record(job, failure.status, **failure.details())
                tally.finish(ok=False)
            except (qv.QubridError, OSError) as error:
                ledger.record(job, "failed", error=f"line {job.line}: {describe(error)}",
                              exit_status=exit_status(error), request_id=getattr(error, "request_id", None),
                              may_have_generated=bool(getattr(error, "may_have_generated", False)))  # fmt: skip
                tally.finish(ok=False)
            else:
                tally.finish(ok=True)

    async with qv.AsyncQubrid(**settings) as client:
        run = Run(client, out, ledger, options)
        await asyncio.gather(*(one(run, job) for job in todo))
    tally.close()


def _row(job: Job, plan: Plan, ledger: Ledger) -> tuple[str, str, str, str]:
    kind = plan.kinds[job.line]
    # An invalid line may not match its record's fingerprint (it may not parse): show what the
    # ledger holds for its number anyway, since that is a video already paid for.
    entry = ledger.state.get(job.line, {}) if kind == INVALID else ledger.entry(job)
    if kind == INVALID:
        status, detail = "invalid", job.error or ""
    elif kind in (DONE, UNCERTAIN):
        status, detail = "skipped", str(entry.get("path") or entry.get("error") or "")
    else:
        status, detail = str(entry.get("status", "?")), str(entry.get("path") or entry.get("error") or "")
    if status != "done" and entry.get("status") in WITH_VIDEO:
        detail += f" | video: {entry['url']}"
    detail = detail.replace("\r", " ").replace("\n", " ")
    return str(job.line), status, str(entry.get("request_id") or "-"), detail


def _summary(jobs: list[Job], plan: Plan, ledger: Ledger) -> bool:
    """Print the table and the totals; True when any line failed."""
    rows = [("line", "status", "request id", "output or error"), *(_row(job, plan, ledger) for job in jobs)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    statuses = [row[1] for row in rows[1:]]
    done, skipped = statuses.count("done"), statuses.count("skipped")
    failed = len(statuses) - done - skipped
    click.echo(f"{done} done, {skipped} skipped, {failed} failed")
    waiting = statuses.count("generated") + statuses.count("download_failed")
    if waiting:
        click.echo(f"{waiting} generated but not saved: run the same command again to download them "
                   "(no new generation)")  # fmt: skip
    if expired := statuses.count("expired"):
        click.echo(f"{expired} with an expired video link: add --regenerate-expired to generate them again "
                   "(costs credits)")  # fmt: skip
    if ledger.broken:
        click.echo(f"qubrid-video: error: the manifest could not be written ({ledger.broken}); "
                   "the table above is the only record of these videos", err=True)  # fmt: skip
    return bool(failed or ledger.broken)


@click.command(epilog=EPILOG + " With --dry-run: 0 when every line is valid, 2 when some line is not.")
@click.argument("jobs_file", metavar="JOBS.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for videos and the manifest.")  # fmt: skip
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 1000), help="Generations at once.")
@click.option("--retry-uncertain", is_flag=True, help="Also re-send lines whose earlier failure may have been billed.")
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
        jobs = parse_jobs(jobs_file)
        ledger = Ledger(out / MANIFEST)
        plan = Plan.make(jobs, ledger, out, retry_uncertain=options.retry_uncertain,
                         regenerate_expired=options.regenerate_expired)  # fmt: skip
        if dry_run:
            for job in jobs:
                if job.error:
                    click.echo(job.error)
            click.echo(plan.describe())
            sys.exit(USAGE if plan.count(INVALID) else 0)
        click.echo(plan.describe(), err=True)
        with client_settings(emulator) as settings:
            out.mkdir(parents=True, exist_ok=True)
            asyncio.run(run_batch(jobs, plan, ledger, out, options=options, settings=settings))
        if _summary(jobs, plan, ledger):
            sys.exit(BATCH_FAILED)
