"""``qubrid-video batch``: one generation per JSONL line, concurrently, resumable, never re-billing.

Each line's outcome is appended to ``DIR/manifest.jsonl`` the moment it is known (the last record
for a line wins), so a re-run after Ctrl-C or a crash skips finished lines, downloads videos that
were generated but not saved, and leaves lines that may have been billed alone unless asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import click
import qubrid_video as qv

from ._connect import client_settings
from ._exits import BATCH_FAILED, EPILOG, describe, exit_status, reported
from ._progress import Tally

FIELDS = ("model", "prompt", "duration", "resolution", "fps", "aspect_ratio", "image", "audio", "draft",
          "save_audio", "prompt_upsampling")  # fmt: skip
MANIFEST = "manifest.jsonl"
RATE_LIMIT_ROUNDS = 5


@attrs.define
class Job:
    """One line of the jobs file."""

    line: int
    raw: str
    fields: dict[str, Any] = attrs.field(factory=dict)
    output: str = ""
    error: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Stable across runs, so a server that honours it replays rather than re-bills a re-sent line."""
        return "qv-batch-" + hashlib.sha256(f"{self.line}\0{self.raw}".encode()).hexdigest()[:32]


def parse_jobs(path: Path) -> list[Job]:
    """Read the JSONL file; a bad line becomes a Job carrying its error, so the others still run."""
    jobs = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        job = Job(line=number, raw=raw.strip(), output=f"line-{number:04d}.mp4")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            job.error = f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
            jobs.append(job)
            continue
        if not isinstance(data, dict):
            job.error = f"line {number}: expected a JSON object"
        elif unknown := sorted(set(data) - set(FIELDS) - {"output"}):
            job.error = f"line {number}: unknown field {unknown[0]!r} (allowed: {', '.join(FIELDS)}, output)"
        else:
            job.fields = {"model": "p-video", **{k: v for k, v in data.items() if k in FIELDS}}
            for media in ("image", "audio"):
                value = job.fields.get(media)
                if isinstance(value, str) and "://" not in value:
                    job.fields[media] = str(path.parent / value)  # relative to the jobs file
            output = data.get("output", job.output)
            if not isinstance(output, str) or Path(output).name != output or output.startswith("."):
                job.error = f"line {number}: output must be a plain file name"
            else:
                job.output = output
        jobs.append(job)
    return jobs


class Manifest:
    """Append-only record of outcomes; fsynced per record so a crash loses nothing already known."""

    def __init__(self, out: Path) -> None:
        self.path = out / MANIFEST
        self.state: dict[int, dict[str, Any]] = {}
        if self.path.exists():
            for raw in self.path.read_text(encoding="utf-8").splitlines():
                with_line = json.loads(raw) if raw.strip() else None
                if isinstance(with_line, dict) and isinstance(with_line.get("line"), int):
                    self.state[with_line["line"]] = with_line

    def record(self, line: int, **entry: Any) -> None:
        """Append the line's new state."""
        entry = {"line": line, **entry}
        self.state[line] = entry
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


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


async def _run_job(client: qv.AsyncQubrid, job: Job, out: Path, manifest: Manifest, gate: RateGate) -> None:
    previous = manifest.state.get(job.line, {})
    target = out / job.output
    if previous.get("status") == "generated":
        video = qv.AsyncVideo(url=previous["url"], created=None, request_id=previous.get("request_id"), client=client)
    else:
        for round_ in range(RATE_LIMIT_ROUNDS):
            await gate.wait()
            try:
                video = await client.videos.generate(
                    **job.fields, extra_headers={"Idempotency-Key": job.idempotency_key}
                )
                break
            except qv.RateLimitError as error:
                if round_ == RATE_LIMIT_ROUNDS - 1:
                    raise
                gate.pause(error.retry_after or 2.0 ** (round_ + 1))
        manifest.record(job.line, status="generated", request_id=video.request_id, url=video.url)
    await video.download(target, overwrite=True)
    manifest.record(job.line, status="done", request_id=video.request_id, url=video.url, path=str(target))


def _pending(jobs: list[Job], manifest: Manifest, out: Path, retry_uncertain: bool) -> tuple[list[Job], list[Job]]:
    """Jobs to run, and jobs skipped (done already, or possibly billed and not to be re-sent)."""
    run: list[Job] = []
    skipped: list[Job] = []
    for job in jobs:
        previous = manifest.state.get(job.line, {})
        done = previous.get("status") == "done" and (out / job.output).exists()
        uncertain = previous.get("status") == "failed" and previous.get("may_have_generated")
        (skipped if done or (uncertain and not retry_uncertain) else run).append(job)
    return run, skipped


async def run_batch(
    jobs: list[Job], out: Path, concurrency: int, retry_uncertain: bool, settings: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Run every pending job, at most `concurrency` at once; returns the manifest's final state."""
    manifest = Manifest(out)
    todo, skipped = _pending(jobs, manifest, out, retry_uncertain)
    tally = Tally(len(jobs), already=len(skipped))
    gate, slots = RateGate(), asyncio.Semaphore(concurrency)

    async def one(job: Job) -> None:
        async with slots:
            tally.start()
            try:
                if job.error:
                    raise qv.InvalidParameterError("line", job.error)
                await _run_job(client, job, out, manifest, gate)
                tally.finish(ok=True)
            except (qv.QubridError, OSError) as error:
                message = job.error or f"line {job.line}: {describe(error)}"
                manifest.record(job.line, status="failed", error=message, exit_status=exit_status(error),
                                request_id=getattr(error, "request_id", None),
                                may_have_generated=bool(getattr(error, "may_have_generated", False)))  # fmt: skip
                tally.finish(ok=False)

    async with qv.AsyncQubrid(**settings) as client:
        await asyncio.gather(*(one(job) for job in todo))
    tally.close()
    return {job.line: manifest.state.get(job.line, {}) | {"skipped": job in skipped} for job in jobs}


def _summary(jobs: list[Job], results: dict[int, dict[str, Any]]) -> int:
    rows = [("line", "status", "request id", "output or error")]
    for job in jobs:
        entry = results[job.line]
        status = "skipped" if entry["skipped"] else entry.get("status", "?")
        detail = entry.get("path") or entry.get("error") or ""
        rows.append((str(job.line), status, entry.get("request_id") or "-", detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    failed = sum(1 for entry in results.values() if entry.get("status") == "failed" and not entry["skipped"])
    done = sum(1 for entry in results.values() if entry.get("status") == "done" and not entry["skipped"])
    skipped = sum(1 for entry in results.values() if entry["skipped"])
    click.echo(f"{done} done, {skipped} skipped, {failed} failed")
    return failed


@click.command(epilog=EPILOG)
@click.argument("jobs_file", metavar="JOBS.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for videos and the manifest.",
)
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 1000), help="Generations at once.")
@click.option("--retry-uncertain", is_flag=True, help="Also re-send lines whose earlier failure may have been billed.")
@click.option("--emulator", is_flag=True, help="Use the built-in emulator (no key, no network, no cost).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def batch(*, jobs_file: Path, out: Path, concurrency: int, retry_uncertain: bool, emulator: bool, debug: bool) -> None:
    """Generate one video per line of JOBS.jsonl into --out, resumably.

    Each line is a JSON object with the fields of `generate` (model defaults to p-video; image and
    audio paths are relative to the jobs file) and an optional "output" file name. Re-running the
    same command skips finished lines. A bad line is reported by number; the others still run.
    """
    with reported(debug):
        out.mkdir(parents=True, exist_ok=True)
        jobs = parse_jobs(jobs_file)
        with client_settings(emulator) as settings:
            results = asyncio.run(run_batch(jobs, out, concurrency, retry_uncertain, settings))
        if _summary(jobs, results):
            sys.exit(BATCH_FAILED)
