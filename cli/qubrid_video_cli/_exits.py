"""Exit statuses, one per error class, and the report of a failure: one line, or one JSON object.

Once the API has returned a video, every later failure (download, disk, Ctrl-C) also names the
video: its URL, its request id and a ready-to-run ``qubrid-video download`` command, because the
video was paid for and must never become unreachable.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import signal
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

import attrs
import click
import httpx
import qubrid_video as qv

OK = 0
FAILURE = 1
USAGE = 2
AUTH = 3
CREDITS = 4
PERMISSION = 5
MODEL_NOT_FOUND = 6
RATE_LIMIT = 7
SERVER = 8
NETWORK = 9
DOWNLOAD = 10
BATCH_FAILED = 11
NOT_FOUND = 12
BUSY = 13  # batch: another run holds the output directory
INTERRUPTED = 130

# Most specific first: the first class an error is an instance of decides its status.
_STATUSES: list[tuple[type[BaseException], int]] = [
    (qv.InvalidParameterError, USAGE),
    (qv.AuthenticationError, AUTH),
    (qv.InsufficientCreditsError, CREDITS),
    (qv.PermissionDeniedError, PERMISSION),
    (qv.ModelNotFoundError, MODEL_NOT_FOUND),
    (qv.NotFoundError, NOT_FOUND),
    (qv.BadRequestError, USAGE),
    (qv.RateLimitError, RATE_LIMIT),
    (qv.APIStatusError, SERVER),
    (qv.ResponseValidationError, SERVER),
    (qv.APIConnectionError, NETWORK),
    (qv.DestinationExistsError, DOWNLOAD),
    (qv.DownloadError, DOWNLOAD),
]

EPILOG = (
    "Exit status: 0 success; 1 unexpected failure; 2 usage or invalid parameter (also a 400); "
    "3 authentication (401, no key); 4 insufficient credits (402); 5 permission denied (403); "
    "6 model not found (404); 7 rate limited (429); 8 server error (5xx, unusable answer); "
    "9 network or timeout; 10 download failed or destination exists (after a generation, the "
    "video's URL and request id are printed); 11 some batch lines failed; "
    "12 not found (404): check the base URL (QUBRID_BASE_URL); 13 another batch is running on the "
    "same --out; 130 interrupted (Ctrl-C); "
    "143 terminated (SIGTERM); 129 hung up (SIGHUP)."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: the command stops as after Ctrl-C (nothing half-written, the video named).

    Attributes:
        signum: The signal's number; the exit status is 128 plus it (143 for SIGTERM, 129 for SIGHUP).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def on_signal(signum: int, frame: object) -> None:
    """Signal handler turning SIGTERM and SIGHUP into :class:`Terminated`, so cleanup and reports run."""
    raise Terminated(signum)


class CommandError(Exception):
    """A failure the command itself detected (a destination it cannot write, a missing extra...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def exit_status(error: BaseException) -> int:
    """The exit status documented for `error`'s class."""
    if isinstance(error, CommandError):
        return error.status
    if isinstance(error, Terminated):
        return 128 + error.signum
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    return next((status for cls, status in _STATUSES if isinstance(error, cls)), FAILURE)


def describe(error: BaseException, options: Mapping[str, str] | None = None) -> str:
    """One line: the problem, the parameter and the request id when there are any.

    Args:
        error: What went wrong.
        options: The command's option for each SDK parameter name (``dest`` -> ``-o``), so the
            message speaks the command's words rather than the Python API's.
    """
    if isinstance(error, qv.DestinationExistsError):
        return f"{error.path} already exists; pass --overwrite to replace it"
    if isinstance(error, qv.InvalidParameterError) and options is not None:
        option = options.get(error.param, "--" + error.param.replace("_", "-"))
        return f"{option}: " + str(error).removeprefix(f"{error.param}: ")
    if isinstance(error, qv.NotFoundError) and not isinstance(error, qv.ModelNotFoundError):
        return f"{error} (check the base URL, QUBRID_BASE_URL; it usually ends in /v1)"
    if isinstance(error, qv.APIError):
        return str(error)
    return str(error) or type(error).__name__


# As the SDK's error messages escape them (qubrid_video._errors): the CLI uses only the SDK's public API.
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029"  # C0, DEL, C1 (ESC, CSI...), line and paragraph separators
    # Format characters (Unicode category Cf): bidi overrides and isolates, which reorder what a
    # terminal shows after them (Trojan Source), zero-width and invisible ones, tags.
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, limit: int = 500) -> str:
    r"""Server-provided text made safe for one terminal line: control and format characters escaped, bounded.

    Escaped as ``\x1b`` or ``\u202e``: a bidi override would reorder the rest of the line as shown.
    """
    flat = _CONTROL.sub(_escape, text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def printable_url(url: str) -> str:
    """The URL as one safe shell word and terminal line.

    httpx's own normal form comes first (an international host as punycode, so the URL still
    names the same host); then everything that could break a line or a word is percent-encoded.
    """
    try:
        normal = str(httpx.URL(url))
    except (httpx.InvalidURL, ValueError, TypeError):
        normal = url
    return quote(normal, safe=":/?#[]@!$&'()*+,;=%~")


def free_name(path: Path) -> Path:
    """`path`, or the first ``stem-N.ext`` beside it that does not exist yet."""
    candidate, number = path, 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


class JsonCommand(click.Command):
    """A command whose ``--json`` covers usage errors too: one JSON object on stdout, exit status 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: object
    ) -> click.Context:
        """Parse `args`; under ``--json`` a usage error is reported as JSON instead of click's text."""
        wants_json = "--json" in args  # before parsing, which consumes `args`
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            if not wants_json:
                raise
            click.echo(json.dumps({"error": error.format_message(), "exit_status": USAGE, "url": None,
                                   "request_id": None, "may_have_generated": False, "download_command": None,
                                   "idempotency_key": None}))  # fmt: skip
            sys.exit(USAGE)


@attrs.define
class Report:
    """What a command knows so far, so that its failure report can name everything already paid for.

    Attributes:
        as_json: Report as one JSON object on stdout instead of a line on stderr.
        options: The command's option names for SDK parameter names (see :func:`describe`).
        video: Set once the API returned a video: every later failure names it.
        output: Where the video was to be saved, for the ready-to-run download command.
        idempotency_key: The key sent with the generation, so a re-run can replay instead of re-bill.
        in_flight: True while the generation request is under way: stopping then may still be billed.
        taken: A destination found taken after the generation, so the download command avoids it.
        fetch_only: The command only fetches a video it was given (``download``): its failures keep
            their own exit status and need no "to save it" advice.
    """

    as_json: bool = False
    options: Mapping[str, str] | None = None
    video: qv.Video | None = None
    output: str | None = None
    idempotency_key: str | None = None
    in_flight: bool = False
    taken: Path | None = None
    fetch_only: bool = False

    def download_command(self) -> str | None:
        """A command that fetches the generated video, or None before there is one.

        When the destination was taken meanwhile, the command names a free file beside it
        rather than the same path (which would fail again) or ``--overwrite`` (which would clobber).
        """
        if self.video is None:
            return None
        words = ["qubrid-video", "download", printable_url(self.video.url)]
        if self.video.request_id:
            words += ["--request-id", printable(self.video.request_id)]
        words += ["-o", str(free_name(self.taken)) if self.taken is not None else (self.output or ".")]
        return shlex.join(words)

    def fail(self, error: BaseException, debug: bool) -> int:
        """Print the report of `error` (and its traceback with `debug`); return the exit status."""
        if debug:
            traceback.print_exception(error, file=sys.stderr)
        generated = self.video is not None and not isinstance(error, KeyboardInterrupt) and not self.fetch_only
        status = DOWNLOAD if generated else exit_status(error)
        if generated and isinstance(error, qv.DestinationExistsError):
            self.taken = Path(error.path)
            message = f"{error.path} appeared while the video was being made; it was left alone"
        elif generated and not isinstance(error, qv.QubridError | OSError):
            message = f"the video could not be saved ({printable(type(error).__name__)}: {printable(str(error))})"
        elif isinstance(error, KeyboardInterrupt):
            how = (
                f"terminated ({signal.Signals(error.signum).name})" if isinstance(error, Terminated) else "interrupted"
            )
            message = f"{how}; nothing partial was left on disk"
        else:
            message = describe(error, self.options)
        # An SDK error knows whether the generation may have run; Ctrl-C only knows a request was out.
        interrupted_in_flight = self.in_flight and isinstance(error, KeyboardInterrupt)
        may_have_generated = (
            (self.video is not None and not self.fetch_only)
            or interrupted_in_flight
            or bool(getattr(error, "may_have_generated", False))
        )
        request_id = self.video.request_id if self.video is not None else getattr(error, "request_id", None)
        shown_id = printable(request_id) if request_id else None
        if self.as_json:
            result = {
                "error": message,
                "exit_status": status,
                "url": self.video.url if self.video is not None else None,
                "request_id": request_id,
                "may_have_generated": may_have_generated,
                "download_command": None if self.fetch_only else self.download_command(),
                "idempotency_key": self.idempotency_key if may_have_generated else None,
            }
            click.echo(json.dumps(result))
        else:
            click.echo(f"qubrid-video: error: {message}", err=True)
            self._explain(may_have_generated, shown_id)
        return status

    def _explain(self, may_have_generated: bool, request_id: str | None) -> None:
        if self.video is not None and not self.fetch_only:
            click.echo(
                f"qubrid-video: the video was generated (request {request_id or 'id unknown'}) but not saved; "
                f"it is at {printable_url(self.video.url)}",
                err=True,
            )
            click.echo(f"qubrid-video: to save it: {self.download_command()}", err=True)
        elif may_have_generated and self.idempotency_key:
            click.echo(
                "qubrid-video: to get this generation without paying twice, run the same command again with "
                f"--idempotency-key {self.idempotency_key} (an API that honours Idempotency-Key then replays "
                "the first answer instead of billing again)",
                err=True,
            )


@contextlib.contextmanager
def reported(debug: bool, *, as_json: bool = False) -> Iterator[Report]:
    """Turn failures into their report and exit status; with `debug`, the traceback comes first."""
    report = Report(as_json=as_json)
    try:
        yield report
    except KeyboardInterrupt as error:
        if not report.as_json:
            click.echo("", err=True)  # end the line the terminal's ^C was echoed on
        sys.exit(report.fail(error, debug))
    except (qv.QubridError, OSError, CommandError) as error:
        sys.exit(report.fail(error, debug))
    except Exception as error:
        # After a paid generation nothing may end in a bare traceback without the video's URL.
        if report.video is None:
            raise
        sys.exit(report.fail(error, debug))
