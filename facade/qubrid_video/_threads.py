"""File work of the async paths, run on a worker thread so that the event loop stays free.

A write of a chunk, an ``fsync`` of a whole video, opening and sniffing an upload: each blocks
for as long as the disk takes (an ``fsync`` of 256 MiB, 90 ms), and every other task of the loop
waits meanwhile. :func:`off_loop` runs it on the loop's default executor instead, and the caller
awaits it before going on, so the work stays in order: one piece at a time, each whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def off_loop(work: Callable[[], T], *, undo: Callable[[T], object] | None = None) -> T:
    """Run `work` on a worker thread and return what it returned (or raise what it raised).

    Cancelled meanwhile, it still waits for `work` to end before the cancellation goes on: the
    thread cannot be stopped, and the caller's cleanup (closing and removing the file) must not
    race a write still under way, nor a descriptor number the kernel has meanwhile reused. What
    `work` made then is handed to `undo` (an upload it opened is closed).
    """
    # Imported here: asyncio alone would double `import qubrid_video` for sync users.
    import asyncio  # noqa: PLC0415

    done = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        while not done.done():
            # A second cancellation is the same request as the first, which is raised below.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([done])
        if undo is not None and not done.cancelled() and done.exception() is None:
            undo(done.result())
        raise
