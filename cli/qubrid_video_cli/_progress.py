"""Progress on a terminal, drawn by tqdm: a spinner while the API works, a download bar, the batch's tally.

Nothing is drawn unless stderr is a terminal (tqdm is not even imported), so pipes, files, logs
and --json output stay clean. On a terminal every display ends its own line when it is done,
whether the work succeeded, failed or was interrupted, so the next output starts on a line of its own.

Why tqdm rather than rich: tqdm is one small pure-Python package with no dependencies of its own
(rich brings pygments and markdown-it-py), it shows an unknown total as bytes and rate with no
configuration, and it redraws a line as a carriage return and the text, padded over the previous
one, which every terminal and multiplexer (tmux, screen) handles; rich's live display moves the
cursor and needs its own console and refresh thread. Importing either costs ~10 ms, paid only
when something is drawn: ``qubrid-video --help`` never imports it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from tqdm import tqdm

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# A download's bar once its size is known: the unit after both byte counts ("4.50kB/10.0kB").
_SIZED = "{l_bar}{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}]"
# Without a size (chunked, no Content-Length): what has arrived and how fast.
_UNSIZED = "{desc}: {n_fmt}B [{elapsed}, {rate_fmt}]"
_SHOWN: list[tqdm[Any]] = []  # the bars on the screen now, which say() clears and redraws


def human_bytes(count: float) -> str:
    """1530 -> '1.5 kB': decimal units, as the download bar shows them."""
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is a terminal with a width to draw in (a closed or detached stream is not).

    A pseudo-terminal nobody sized (``script -qc CMD >/dev/null``, some CI runners) reports 0
    columns: nothing can be drawn there, so it is treated as a pipe.
    """
    try:
        if not stream.isatty():
            return False
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, ValueError, OSError):
        return False


@functools.cache
def _tqdm() -> type[tqdm[Any]]:
    """The tqdm class, imported on first use, drawing one column short of the terminal's width."""
    from tqdm import tqdm  # noqa: PLC0415 - lazy: only a terminal pays for the import

    # A plain thread lock: tqdm's default also creates a multiprocessing lock (a POSIX semaphore)
    # that one process drawing one line at a time does not need. No monitor thread either: every
    # redraw here is driven by the work itself (or the spinner's own thread).
    tqdm.set_lock(threading.RLock())
    tqdm.monitor_interval = 0

    class Narrow(tqdm):  # type: ignore[type-arg]
        # A line filling the last column leaves the cursor waiting to wrap: some terminals wrap at
        # once, and a key typed meanwhile starts a new line, so each redraw would land one line lower.
        @property
        def format_dict(self) -> MutableMapping[str, Any]:
            values = super().format_dict
            if values.get("ncols"):
                values["ncols"] -= 1
            return values

    return Narrow


class _Line:
    """The terminal as tqdm writes to it, remembering whether the last line written is still open.

    tqdm draws its first line while it is being created, so a Ctrl-C can arrive after the line is
    on the screen but before the display holds the bar that would end it; the display then ends
    the line itself.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.open = False

    def write(self, text: str) -> int:
        if text:
            self.open = not text.endswith("\n")
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def end(self) -> None:
        """End the line if something was left on it."""
        if self.open:
            self.write("\n")
            self.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)  # fileno (the terminal's width), encoding, isatty


class _Display:
    """What the three displays share: drawn only on a terminal, and always ended on a line of its own."""

    def __init__(self, stream: TextIO | None) -> None:
        self._line = _Line(stream or sys.stderr)
        self.enabled = is_terminal(self._line.stream)
        self._bar: tqdm[Any] | None = None

    def _show(self, **options: Any) -> tqdm[Any]:
        bar = self._bar = _tqdm()(file=self._line, dynamic_ncols=True, leave=True, mininterval=0.1, **options)
        _SHOWN.append(bar)
        return bar

    def _end(self, desc: str | None = None) -> None:
        """Draw the final state (with `desc` as its label, if given) and end its line."""
        bar, self._bar = self._bar, None
        if bar is not None:
            if desc is not None:
                bar.set_description_str(desc, refresh=False)
            bar.close()
            _SHOWN.remove(bar)
        self._line.end()


def say(message: str) -> None:
    """Print a line on stderr without tearing a bar being drawn: the bar is cleared, then redrawn below it."""
    for bar in _SHOWN:
        bar.clear()
    click.echo(message, err=True)
    for bar in _SHOWN:
        bar.refresh()


class Spinner(_Display):
    """``⠋ generating with p-video 12.3s``, redrawn ten times a second by a thread until the block ends.

    The block's end leaves ``✓`` (or ``✗`` when it raised) and the time it took, on a line of its own.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.label = label
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self, bar: tqdm[Any]) -> None:
        index = 0
        while not self._stop.wait(0.1):
            index += 1
            bar.set_description_str(f"{FRAMES[index % len(FRAMES)]} {self.label}")

    def __enter__(self) -> Spinner:
        if self.enabled:
            bar = self._show(desc=f"{FRAMES[0]} {self.label}", bar_format="{desc} {elapsed_s:.1f}s")
            self._thread = threading.Thread(target=self._run, args=(bar,), daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        self._end(f"{'✓' if exc_type is None else '✗'} {self.label}")


class Bar(_Display):
    """A download's bar, a callable for ``progress=``; use it as a context manager so its line always ends.

    ``downloading:  45%|█████▎      | 4.50kB/10.0kB [00:02<00:02, 2.25kB/s]`` when the size is known;
    ``downloading: 4.50kB [00:02, 2.25kB/s]`` when it is not. Drawn from the first byte on; a
    download that fails or is interrupted leaves its last state marked ``✗``.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.label = label

    def __call__(self, done: int, total: int | None) -> None:
        """Show `done` bytes of `total` (None: unknown); tqdm redraws at most ten times a second."""
        if not self.enabled:
            return
        try:
            self._draw(done, total)
        except Exception:  # a display must never fail the (paid) download it shows
            self.enabled = False
            self._end()

    def _draw(self, done: int, total: int | None) -> None:
        bar = self._bar
        if bar is None:
            bar = self._show(desc=self.label, total=total, unit="B", unit_scale=True,
                             bar_format=_SIZED if total else _UNSIZED)  # fmt: skip
        if total != bar.total:  # a resume learned the size, or the file was sent again whole
            bar.total, bar.bar_format = total, (_SIZED if total else _UNSIZED)
        if done < bar.n:  # the download started over from the first byte
            bar.reset(total=total)
        bar.update(done - bar.n)

    def __enter__(self) -> Bar:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end(None if exc_type is None else f"✗ {self.label}")


class Tally(_Display):
    """The batch's overall bar: ``batch |██████      | 12/40, ✓ 11  ✗ 1  running 3``; close() ends its line."""

    def __init__(self, total: int, *, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.total, self.ok, self.failed, self.running = total, 0, 0, 0
        if self.enabled and total:
            self._show(desc="batch", total=total, bar_format="{desc} |{bar:24}| {n_fmt}/{total_fmt}{postfix}")

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
        self._draw(advance=1)

    def _draw(self, advance: int = 0) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"✓ {self.ok}  ✗ {self.failed}  running {self.running}", refresh=False)
            self._bar.update(advance)
            if not advance:  # update() redraws only on progress
                self._bar.refresh()

    def close(self) -> None:
        """Draw the final count and end the bar's line."""
        self._end()
