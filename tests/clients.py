"""Either client behind one blocking interface, so that a behaviour test runs against both."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

import qubrid_video as qv

FLAVOURS = ["sync", "async"]
# The smallest generation p-video allows (720 x 720, 24 frames, draft): what behaviour tests ask for.
TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}


class Either:
    """A ``Qubrid``, or an ``AsyncQubrid`` run on an event loop of its own: tests call both alike."""

    def __init__(self, flavour: str, **options: Any) -> None:
        self.flavour = flavour
        self._loop = asyncio.new_event_loop() if flavour == "async" else None
        self.client: qv.Qubrid | qv.AsyncQubrid = (
            qv.Qubrid(**options) if self._loop is None else qv.AsyncQubrid(**options)
        )

    def generate(self, **fields: Any) -> qv.Video | qv.AsyncVideo:
        """``client.videos.generate(**fields)``, awaited on the async client."""
        if isinstance(self.client, qv.Qubrid):
            return self.client.videos.generate(**fields)
        return self._run(self.client.videos.generate(**fields))

    def close(self) -> None:
        """Close the client (and the async one's event loop)."""
        if isinstance(self.client, qv.Qubrid):
            self.client.close()
            return
        self._run(self.client.aclose())
        if self._loop is not None:
            self._loop.close()

    def _run(self, awaitable: Any) -> Any:
        if self._loop is None:
            raise TypeError("only the async client runs on an event loop")
        return self._loop.run_until_complete(awaitable)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
