"""Run a command on a pseudo-terminal and read back the screen a user would see.

The child gets a pty as stdin, stdout and stderr, sized like a real window; everything it writes
is fed to pyte, a VT100 emulator, which applies carriage returns, erases, cursor moves and line
wraps as a terminal (or tmux) would. What is left on the screen is what the user reads.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyte

COLUMNS, ROWS = 240, 50  # wide: no path in a test's output wraps


@dataclass
class Session:
    """What a command left: its exit status, the bytes it wrote and the screen's non-blank lines."""

    returncode: int
    raw: bytes
    lines: list[str]

    def after(self, prefix: str) -> list[str]:
        """The screen's lines from the first one starting with `prefix` on (an AssertionError if none does)."""
        index = next((i for i, line in enumerate(self.lines) if line.startswith(prefix)), None)
        assert index is not None, f"no line starts with {prefix!r}:\n" + "\n".join(self.lines)
        return self.lines[index:]


def in_terminal(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 120,
    interrupt_on: re.Pattern[bytes] | None = None,
    size: tuple[int, int] = (ROWS, COLUMNS),
) -> Session:
    """Run `argv` attached to a fresh pty until it exits and closes the terminal; return what it showed.

    Args:
        argv: The command.
        env: Its environment.
        timeout: Seconds it may take (an AssertionError after them, the command killed).
        interrupt_on: Send it SIGINT, as Ctrl-C would, once its output matches this.
        size: The window's rows and columns ((0, 0): a pty nobody sized, as under ``script``).
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    try:
        proc = subprocess.Popen(list(argv), env=dict(env), stdin=slave, stdout=slave, stderr=slave)
    finally:
        os.close(slave)  # the child holds it now: the master reads EOF (EIO) once the child is gone
    raw = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every copy of the slave side is closed
                break
            if not chunk:
                break
            raw += chunk
            if interrupt_on is not None and interrupt_on.search(raw):
                proc.send_signal(signal.SIGINT)
                interrupt_on = None
        else:
            proc.kill()
            raise AssertionError(
                f"{argv[:3]} did not finish within {timeout} s; it showed:\n{raw.decode(errors='replace')}"
            )
        returncode = proc.wait(timeout=timeout)
    finally:
        os.close(master)
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(bytes(raw))
    return Session(returncode, bytes(raw), [line.rstrip() for line in screen.display if line.strip()])
