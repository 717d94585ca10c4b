"""The emulator holds 1,000 concurrent in-flight requests with a simulated generation time."""

from __future__ import annotations

import asyncio

import httpx
from qubrid_video_emulator import Emulator, EmulatorConfig

IN_FLIGHT = 1000


def test_thousand_concurrent_requests_all_succeed() -> None:
    """1,000 requests held 1 s each are all in flight at once and all answered 200, with one render."""
    with Emulator(EmulatorConfig(latency=1.0)) as emulator:
        body = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        # Ten client pools of 100: one httpx pool of 1,000 connections spends its time managing
        # itself, and this test measures the server.
        pools, per_pool = 10, IN_FLIGHT // 10
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)

        async def burst() -> list[int]:
            clients = [httpx.AsyncClient(limits=limits, timeout=120) for _ in range(pools)]
            url = f"{emulator.base_url}/videos/generations"
            try:
                calls = [c.post(url, json=body, headers=headers) for c in clients for _ in range(per_pool)]
                return [a.status_code for a in await asyncio.gather(*calls)]
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))

        statuses = asyncio.run(burst())
        assert statuses == [200] * IN_FLIGHT
        assert emulator.generations == IN_FLIGHT
        assert len({r.request_id for r in emulator.requests()}) == IN_FLIGHT
        # All were in flight together: the last arrived before the first was answered.
        requests = emulator.requests()
        assert max(r.time for r in requests) < min(r.answered for r in requests)
