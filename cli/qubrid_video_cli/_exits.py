"""Exit statuses, one per error class, and the one-line report of an error."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click
import qubrid_video as qv

OK = 0
FAILURE = 1
USAGE = 2
AUTH = 3
CREDITS = 4
PERMISSION = 5
NOT_FOUND = 6
RATE_LIMIT = 7
SERVER = 8
NETWORK = 9
DOWNLOAD = 10
BATCH_FAILED = 11
INTERRUPTED = 130

# Most specific first: the first class an error is an instance of decides its status.
_STATUSES: list[tuple[type[BaseException], int]] = [
    (qv.InvalidParameterError, USAGE),
    (qv.AuthenticationError, AUTH),
    (qv.InsufficientCreditsError, CREDITS),
    (qv.PermissionDeniedError, PERMISSION),
    (qv.ModelNotFoundError, NOT_FOUND),
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
    "9 network or timeout; 10 download failed or destination exists; 11 some batch lines failed; "
    "130 interrupted."
)


def exit_status(error: BaseException) -> int:
    """The exit status documented for `error`'s class."""
    return next((status for cls, status in _STATUSES if isinstance(error, cls)), FAILURE)


def describe(error: BaseException) -> str:
    """One line: the problem, the parameter and the request id when there are any."""
    if isinstance(error, qv.APIError):
        return str(error)
    return str(error) or type(error).__name__


@contextlib.contextmanager
def reported(debug: bool) -> Iterator[None]:
    """Turn SDK errors into one line on stderr and their exit status; a traceback only with --debug."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo("\nqubrid-video: interrupted; nothing partial was left on disk", err=True)
        sys.exit(INTERRUPTED)
    except (qv.QubridError, OSError) as error:
        if debug:
            raise
        click.echo(f"qubrid-video: error: {describe(error)}", err=True)
        sys.exit(exit_status(error))
