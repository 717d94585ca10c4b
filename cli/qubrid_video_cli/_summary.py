"""The end of a batch run: one row per line, the totals, and what to do next."""

from __future__ import annotations

import click

from ._exits import printable, printable_url
from ._jobs import Job
from ._ledger import WITH_VIDEO, Ledger
from ._plan import DONE, INVALID, UNCERTAIN, Plan


def _row(job: Job, plan: Plan, ledger: Ledger) -> tuple[str, str, str, str]:
    kind = plan.kinds[job.line]
    entry = ledger.entry(job)  # an invalid line that parses still shows the video it already has
    if kind == INVALID:
        status, detail = "invalid", job.error or ""
    elif kind in (DONE, UNCERTAIN):
        status, detail = "skipped", str(entry.get("path") or entry.get("error") or "")
    else:
        status, detail = str(entry.get("status", "?")), str(entry.get("path") or entry.get("error") or "")
    if status != "done" and entry.get("status") in WITH_VIDEO:
        detail += f" | video: {printable_url(entry['url'])}"
    # Request ids and errors hold what servers sent: one line each, nothing the terminal obeys.
    return str(job.line), status, printable(str(entry.get("request_id") or "-")), printable(detail)


def summarize(jobs: list[Job], plan: Plan, ledger: Ledger) -> bool:
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
