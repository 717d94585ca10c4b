"""The end of a batch run: one row per line, the totals, what to do next, and the exit status."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import attrs
import click
import qubrid_video as qv

from ._exits import AUTH, BATCH_FAILED, CREDITS, OK, describe, exit_status, free_name, printable, printable_url
from ._jobs import Job
from ._ledger import WITH_VIDEO, Ledger
from ._plan import DONE, GENERATE, INVALID, UNCERTAIN, Plan, may_be_billed

HEADER = ("line", "status", "request id", "output or error")
UNSAVED = ("generated", "download_failed")  # paid for, link alive as far as is known, not saved
_FIXES = {AUTH: "check QUBRID_API_KEY", CREDITS: "add credits to the account"}
IN_FLIGHT = "stopped while its generation request was in flight: it may have been billed"


@attrs.define
class Outcome:
    """What a run learns that the ledger does not hold.

    Attributes:
        not_sent: The lines whose request the run chose not to send, and why.
        stop: The 401 or 402 answer after which the run sent nothing more (the key or the
            account is at fault, not the line).
    """

    not_sent: dict[int, str] = attrs.field(factory=dict)
    stop: qv.APIStatusError | None = None


@attrs.frozen
class Row:
    """One line of the table, and what it means for the advice that follows it.

    Attributes:
        cells: Line number, status, request id, path or error; made safe to print.
        finished: The line's video is saved (now or by an earlier run).
        uncertain: The line has no video and its generation may have been billed.
        download: For a paid video not saved, the command that saves it without generating again.
    """

    cells: tuple[str, str, str, str]
    finished: bool = False
    uncertain: bool = False
    download: str | None = None

    @property
    def status(self) -> str:
        """The status cell."""
        return self.cells[1]


def _row(job: Job, plan: Plan, ledger: Ledger, outcome: Outcome) -> Row:
    kind = plan.kinds[job.line]
    entry = ledger.entry(job)  # an invalid line that parses still shows the video it already has
    detail = str(entry.get("path") or entry.get("error") or (IN_FLIGHT if entry.get("status") == "sending" else ""))
    if kind == INVALID:
        status, detail = "invalid", job.error or ""
    elif kind in (DONE, UNCERTAIN):
        status = "skipped"
    elif job.line in outcome.not_sent or (kind == GENERATE and job.key not in ledger.changed):
        status, detail = "not sent", outcome.not_sent.get(job.line, "the run was stopped before sending it")
        entry = {}
    else:
        status = "interrupted" if entry.get("status") == "sending" else str(entry.get("status", "?"))
    # Without a manifest on disk, the table is the only record of every video paid for, saved or not.
    if entry.get("status") in WITH_VIDEO and (status != "done" or ledger.broken):
        detail += f" | video: {printable_url(entry['url'])}"
    # Request ids and errors hold what servers sent: one line each, nothing the terminal obeys.
    cells = (str(job.line), status, printable(str(entry.get("request_id") or "-")), printable(detail))
    download = _download_command(entry, ledger.path.parent / job.output) if status in UNSAVED else None
    return Row(cells, finished=kind == DONE or status == "done", uncertain=kind != INVALID and may_be_billed(entry),
               download=download)  # fmt: skip


def _download_command(entry: dict[str, Any], target: Path) -> str:
    """``qubrid-video download URL --request-id ID -o FILE``: one shell-quoted line, safe to print."""
    words = ["qubrid-video", "download", printable_url(entry["url"])]
    if entry.get("request_id"):
        words += ["--request-id", printable(str(entry["request_id"]))]
    return shlex.join([*words, "-o", str(free_name(target))])


def _lines(count: int) -> str:
    return f"{count} line{'' if count == 1 else 's'}"


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def summarize(jobs: list[Job], plan: Plan, ledger: Ledger, outcome: Outcome) -> int:
    """Print the table, the totals and what to do next; return the run's exit status."""
    rows = [_row(job, plan, ledger, outcome) for job in jobs]
    table = [HEADER, *(row.cells for row in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(3)]
    for cells in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(cells[:3], widths, strict=True)) + "  " + cells[3]
        )
    statuses = [row.status for row in rows]
    done, skipped, not_sent = statuses.count("done"), statuses.count("skipped"), statuses.count("not sent")
    failed = len(statuses) - done - skipped - not_sent
    click.echo(f"{done} done, {skipped} skipped, {failed} failed" + (f", {not_sent} not sent" if not_sent else ""))
    _advise(rows, ledger, outcome)
    if outcome.stop is not None:  # the key or the account is at fault: the status generate would give
        return exit_status(outcome.stop)
    # A line skipped as possibly billed has no video either: the batch is not finished.
    return OK if all(row.finished for row in rows) and not ledger.broken else BATCH_FAILED


def _advise(rows: list[Row], ledger: Ledger, outcome: Outcome) -> None:
    """What to do next, for each kind of unfinished line; only what is true of the manifest on disk."""
    statuses = [row.status for row in rows]
    unsaved = [row.download for row in rows if row.download]
    if unsaved and ledger.broken:  # a re-run would not know these videos: only their URLs can fetch them
        click.echo(f"{len(unsaved)} generated but not saved, and the manifest does not record "
                   f"{_them(len(unsaved))}: save {'it' if len(unsaved) == 1 else 'each'} with (no new "
                   "generation):")  # fmt: skip
        for command in unsaved:
            click.echo(f"  {command}")
    elif unsaved:
        click.echo(f"{len(unsaved)} generated but not saved: run the same command again to download them "
                   "(no new generation)")  # fmt: skip
    if expired := statuses.count("expired"):
        click.echo(f"{expired} with an expired video link: add --regenerate-expired to generate them again "
                   "(costs credits)")  # fmt: skip
    if uncertain := sum(row.uncertain for row in rows):
        has = "has" if uncertain == 1 else "have"
        click.echo(f"{_lines(uncertain)} may have been billed but {has} no video: run the same command with "
                   f"--retry-uncertain to send {_them(uncertain)} again, with the same Idempotency-Key (an API that "
                   "honours it replays its first answer instead of billing again)")  # fmt: skip
    not_sent = statuses.count("not sent")
    if outcome.stop is not None:
        were = "was" if not_sent == 1 else "were"
        click.echo(f"qubrid-video: error: the batch stopped at the first {outcome.stop.status_code} answer "
                   f"({printable(describe(outcome.stop))}), so {_lines(not_sent)} {were} not sent; "
                   f"{_FIXES[exit_status(outcome.stop)]}, then run the same command again", err=True)  # fmt: skip
    elif not_sent:
        when = "once the manifest can be written, " if ledger.broken else ""
        click.echo(f"{_lines(not_sent)} not sent: {when}run the same command again to send {_them(not_sent)}")
    if ledger.broken:
        click.echo(f"qubrid-video: error: the manifest could not be written ({ledger.broken}), so it does not "
                   "hold what this run did, and nothing was sent after that: the URLs above are the only record "
                   "of the videos paid for; save them with `qubrid-video download URL -o PATH`",
                   err=True)  # fmt: skip
