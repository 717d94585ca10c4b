"""What process-pool workers run in the tests: importable by name in a fresh interpreter (spawn).

It imports the SDK alone (no pytest, no emulator), as a user's worker module would, so a spawned
worker starts quickly. Each worker makes its own client in the pool's initializer, from the
emulator's address and key the parent passes; nothing but plain data and results cross.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from qubrid_video import Qubrid, QubridError, Video

# One generation the emulator renders quickly, and valid for the published p-video model too.
SHORT: dict[str, Any] = {"model": "p-video", "duration": 1, "resolution": "720p", "fps": 24}

_client: Qubrid | None = None


def start(base_url: str, api_key: str) -> None:
    """Pool initializer: this process's one client (closed when the interpreter exits)."""
    global _client  # noqa: PLW0603 - one client per process is the point
    _client = Qubrid(api_key=api_key, base_url=base_url)


def _worker_client() -> Qubrid:
    if _client is None:
        raise RuntimeError("the pool was started without the start() initializer")
    return _client


def generate(prompt: str, **fields: Any) -> tuple[int, Video]:
    """Generate a video in this worker; return the worker's pid with it (raises the SDK's errors as they are)."""
    return os.getpid(), _worker_client().videos.generate(**{**SHORT, **fields}, prompt=prompt)


def generate_as(api_key: str, prompt: str) -> Video:
    """Generate with another key, on a copy of this worker's client (``with_options``)."""
    return _worker_client().with_options(api_key=api_key).videos.generate(**SHORT, prompt=prompt)


def pickled_outcome(prompt: str, **fields: Any) -> bytes:
    """The pickle of what a generation gave, the video or the SDK's error: the bytes that cross, to inspect."""
    try:
        outcome: object = _worker_client().videos.generate(**{**SHORT, **fields}, prompt=prompt)
    except QubridError as exc:
        outcome = exc
    return pickle.dumps(outcome)
