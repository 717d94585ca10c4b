"""Progress on a terminal: a spinner with elapsed time while waiting, a bar while downloading.

Both draw on stderr only when it is a terminal, so pipes, files and --json output stay clean.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


class Spinner:
    """``⠋ generating… 12.3s`` redrawn ten times a second in a thread, until the block ends."""

    def __init__(self, label: str, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def _run(self) -> None:
        index = 0
        while not self._stop.wait(0.1):
            elapsed = time.monotonic() - self._started
            self.stream.write(f"\r{FRAMES[index % len(FRAMES)]} {self.label} {elapsed:5.1f}s")
            self.stream.flush()
            index += 1

    def __enter__(self) -> Spinner:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()
            elapsed = time.monotonic() - self._started
            mark = "✓" if exc_type is None else "✗"
            self.stream.write(f"\r{mark} {self.label} {elapsed:5.1f}s\n")
            self.stream.flush()


class Bar:
    """A download bar: ``[#####     ] 12.0 MiB / 24.0 MiB  3.1 MiB/s  ETA 4s``; a callable for progress=."""

    WIDTH = 28

    def __init__(self, label: str, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self._started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        """Redraw (at most 20 times a second, and always at the end)."""
        now = time.monotonic()
        finished = total is not None and done >= total
        if not self.enabled or (now - self._drawn < 0.05 and not finished):
            return
        self._drawn = now
        rate = done / max(now - self._started, 1e-6)
        if total:
            filled = int(self.WIDTH * done / total)
            eta = (total - done) / rate if rate > 0 else 0
            line = (f"[{'#' * filled}{' ' * (self.WIDTH - filled)}] {human_bytes(done)} / {human_bytes(total)}"
                    f"  {human_bytes(rate)}/s  ETA {eta:.0f}s")  # fmt: skip
        else:
            line = f"{human_bytes(done)}  {human_bytes(rate)}/s"
        self.stream.write(f"\r{self.label} {line}" + ("\n" if finished else ""))
        self.stream.flush()


class Tally:
    """The batch's overall bar: ``batch [######    ] 12/40  ✓ 11  ✗ 1  running 3``."""

    WIDTH = 24

    def __init__(self, total: int, *, already: int = 0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.total, self.ok, self.failed, self.running = total, already, 0, 0

    def start(self) -> None:
        """A job began."""
        self.running += 1
        self._draw()

    def finish(self, *, ok: bool) -> None:
        """A job ended."""
        self.running -= 1
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        done = self.ok + self.failed
        filled = int(self.WIDTH * done / max(self.total, 1))
        self.stream.write(f"\rbatch [{'#' * filled}{' ' * (self.WIDTH - filled)}] {done}/{self.total}"
                          f"  ✓ {self.ok}  ✗ {self.failed}  running {self.running} ")  # fmt: skip
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
