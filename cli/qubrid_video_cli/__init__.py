"""The ``qubrid-video`` command line (install with ``pip install 'qubrid-video[cli]'``)."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    """Entry point; without the ``cli`` extra it says how to install it instead of a traceback.

    SIGTERM and SIGHUP stop a command as Ctrl-C does (exit 143, 129): partial files are removed
    and a generated video's URL is printed. A SIGINT ignored by the parent (a background job)
    stays ignored.
    """
    try:
        from ._commands import cli  # noqa: PLC0415 - lazy: click may be missing
        from ._exits import on_signal  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"qubrid-video: the command line needs {missing}, which is not installed.\n"
            "Install it with: pip install 'qubrid-video[cli]'\n"
        )
        sys.exit(2)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, on_signal)
    cli()


__all__ = ["main"]
