"""Start the project's commands as a user's shell would, whatever the test run itself inherited.

A test run started as a background job of a non-interactive shell (``make test &``, cron, some CI
runners) ignores SIGINT, and children inherit that: a test that sends SIGINT must set the child's
disposition itself. A tiny launcher does it (and can cap file sizes) before exec'ing the command,
instead of ``preexec_fn``, which is unsafe in a process running the emulator's threads.
"""

from __future__ import annotations

import sys
from pathlib import Path

QUBRID_VIDEO = str(Path(sys.executable).parent / "qubrid-video")

_LAUNCH = """
import os, resource, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[2] == "ignore" else signal.SIG_DFL)
if sys.argv[1] != "-":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
os.execv(sys.argv[3], sys.argv[3:])
"""


def command(*args: str, max_file_size: int | None = None, ignore_sigint: bool = False) -> list[str]:
    """argv running ``qubrid-video ARGS`` with SIGINT at its default and, optionally, a file-size limit.

    Args:
        *args: The command's arguments.
        max_file_size: RLIMIT_FSIZE in bytes: writes past it fail with EFBIG, like a full disk.
        ignore_sigint: Start it with SIGINT ignored instead, as a background job of a shell is.
    """
    limit = "-" if max_file_size is None else str(max_file_size)
    return [sys.executable, "-c", _LAUNCH, limit, "ignore" if ignore_sigint else "default", QUBRID_VIDEO, *args]
