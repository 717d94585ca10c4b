"""Where commands send requests: the real API (key from the environment) or the built-in emulator."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from ._exits import AUTH, USAGE, CommandError

NO_KEY = (
    "no API key. Set it with `export QUBRID_API_KEY=...` (from your Qubrid account), "
    "or try the built-in emulator, offline and free: add --emulator"
)


@contextlib.contextmanager
def client_settings(emulator: bool, *, require_key: bool = True) -> Iterator[dict[str, Any]]:
    """Keyword arguments for the client: the emulator's, started in-process on a free port, or {}.

    Raises:
        CommandError: no API key (and one is required), or --emulator without the emulator extra.
    """
    if not emulator:
        if require_key and not os.environ.get("QUBRID_API_KEY"):
            raise CommandError(NO_KEY, AUTH)
        yield {}
        return
    try:
        from qubrid_video_emulator import Emulator  # noqa: PLC0415 - the emulator extra is optional
    except ImportError as exc:
        raise CommandError(
            f"--emulator needs {exc.name}, which is not installed: pip install 'qubrid-video[emulator]'", USAGE
        ) from None
    with Emulator() as running:
        yield {"api_key": running.api_key, "base_url": running.base_url}
