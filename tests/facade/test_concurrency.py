"""Concurrency: one AsyncQubrid runs 500 calls at once with defaults; one Qubrid serves many threads."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qubrid_video import AsyncQubrid, Qubrid
from qubrid_video_emulator import Emulator, EmulatorConfig

TINY: dict[str, Any] = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}


def test_500_concurrent_generations_on_one_async_client() -> None:
    """500 calls held 2 s each by the server all succeed: waiting for a connection is never a PoolTimeout."""
    with Emulator(EmulatorConfig(latency=2.0)) as emulator:

        async def burst() -> list[Any]:
            async with AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
                calls = [client.videos.generate(**TINY) for _ in range(500)]
                return await asyncio.gather(*calls, return_exceptions=True)

        results = asyncio.run(burst())
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        assert emulator.generations == 500
        assert len({e.idempotency_key for e in emulator.requests()}) == 500


def test_one_sync_client_shared_across_threads() -> None:
    """Sixteen threads share one Qubrid; every call succeeds with its own idempotency key."""
    with Emulator(EmulatorConfig(latency=0.2)) as emulator, Qubrid(api_key=emulator.api_key,
                                                                    base_url=emulator.base_url) as client:  # fmt: skip
        with ThreadPoolExecutor(16) as pool:
            videos = list(pool.map(lambda i: client.videos.generate(**TINY, prompt=f"t{i}"), range(64)))
        assert len(videos) == 64
        assert len({e.idempotency_key for e in emulator.requests()}) == 64
        assert emulator.generations == 64
