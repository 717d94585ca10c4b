"""The ``qubrid-video`` command line (install with ``pip install 'qubrid-video[cli]'``)."""

from __future__ import annotations

import importlib.util
import signal
import sys


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # sys.modules holds None for it: importing it fails
        return False


def main() -> None:
    """Entry point; without the ``cli`` extra it says how to install it instead of a traceback.

    SIGTERM and SIGHUP stop a command as Ctrl-C does (exit 143, 129): partial files are removed
    and a generated video's URL is printed. A SIGINT ignored by the parent (a background job)
    stays ignored. Shell completion answers through ``_QUBRID_VIDEO_COMPLETE`` (see ``completion``).
    """
    try:
        from ._commands import cli  # noqa: PLC0415 - lazy: click may be missing
        from ._complete import COMPLETE_VAR  # noqa: PLC0415
        from ._exits import on_signal  # noqa: PLC0415

        # The progress bars import tqdm only when they draw: a missing one is found now, not after
        # a paid generation.
        if not _installed("tqdm"):
            raise ImportError("No module named 'tqdm'", name="tqdm")
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"qubrid-video: the command line needs {missing}, which is not installed.\n"
            "Install it with: pip install 'qubrid-video[cli]'\n"
        )
        sys.exit(2)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, on_signal)
    # The completion variable is fixed, so the scripts `qubrid-video completion SHELL` prints work
    # whatever name the program was started by (a venv's shim, python -m qubrid_video_cli).
    cli(complete_var=COMPLETE_VAR)


__all__ = ["main"]
