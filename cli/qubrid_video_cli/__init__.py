"""The ``qubrid-video`` command line (install with ``pip install 'qubrid-video[cli]'``)."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point; without the ``cli`` extra it says how to install it instead of a traceback."""
    try:
        from ._commands import cli  # noqa: PLC0415 - lazy: click may be missing
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"qubrid-video: the command line needs {missing}, which is not installed.\n"
            "Install it with: pip install 'qubrid-video[cli]'\n"
        )
        sys.exit(2)
    cli()


__all__ = ["main"]
