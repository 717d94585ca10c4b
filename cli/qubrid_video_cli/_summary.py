"""The end of a batch run: one row per line, the totals, what to do next, and the exit status."""

from __future__ import annotations

from typing import Any

import attrs
import click

from ._exits import BATCH_FAILED, OK, printable, printable_url
from ._jobs import Job
from ._ledger import WITH_VIDEO, Ledger
from ._plan import DONE, INVALID, UNCERTAIN, Plan

HEADER = ("line", "status", "request id", "output or error")


@attrs.frozen
class Row:
    """One line of the table, and what it means for the advice that follows it.

    Attributes:
        cells: Line number, status, request id, path or error; made safe to print.
        finished: The line's video is saved (now or by an earlier run).
        uncertain: The line has no video and its generation may have been billed.
    """

    cells: tuple[str, str, str, str]
    finished: bool = False
    uncertain: bool = False

    @property
    def status(self) -> str:
        """The status cell."""
        return self.cells[1]


def _uncertain(entry: dict[str, Any]) -> bool:
    return entry.get("status") == "failed" and bool(entry.get("may_have_generated"))


def _row(job: Job, plan: Plan, ledger: Ledger) -> Row:
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
    cells = (str(job.line), status, printable(str(entry.get("request_id") or "-")), printable(detail))
    return Row(cells, finished=kind == DONE or status == "done", uncertain=kind != INVALID and _uncertain(entry))


def _lines(count: int) -> str:
    return f"{count} line{'' if count == 1 else 's'}"


def summarize(jobs: list[Job], plan: Plan, ledger: Ledger) -> int:
    """Print the table, the totals and what to do next; return the run's exit status."""
    rows = [_row(job, plan, ledger) for job in jobs]
    table = [HEADER, *(row.cells for row in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(3)]
    for cells in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(cells[:3], widths, strict=True)) + "  " + cells[3]
        )
    statuses = [row.status for row in rows]
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
    if uncertain := sum(row.uncertain for row in rows):
        has = "has" if uncertain == 1 else "have"
        click.echo(f"{_lines(uncertain)} may have been billed but {has} no video: run the same command with "
                   "--retry-uncertain to send them again, with the same Idempotency-Key (an API that honours it "
                   "replays its first answer instead of billing again)")  # fmt: skip
    if ledger.broken:
        click.echo(f"qubrid-video: error: the manifest could not be written ({ledger.broken}); "
                   "the table above is the only record of these videos", err=True)  # fmt: skip
    # A line skipped as possibly billed has no video either: the batch is not finished.
    return OK if all(row.finished for row in rows) and not ledger.broken else BATCH_FAILED
