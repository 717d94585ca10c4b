"""Soak: thousands of generations through one client with 10% mixed faults; nothing lost, nothing leaked."""

from __future__ import annotations

import asyncio
import collections
import gc
import hashlib
import os
import resource
from pathlib import Path

import httpx
import pytest
import qubrid_video as qv
from qubrid_video_emulator import Emulator, FaultKind

PROMPTS = 12  # distinct renders; identical ones share a file


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def soak(calls: int, tmp_path: Path) -> None:
    """Run `calls` generate+download pairs, 50 at a time, against 10% mixed faults, and audit everything."""
    gc.collect()
    fds_before = _open_fds()
    outcomes: collections.Counter[str] = collections.Counter()
    saved: list[tuple[str, Path]] = []
    with Emulator() as emulator:
        emulator.set_fault_rate(0.10, list(FaultKind), seed=42, delay=0.2, retry_after=0.05, cut_at=0.5)

        async def run() -> float:
            slots = asyncio.Semaphore(50)
            async with qv.AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url, timeout=60) as client:

                async def one(index: int) -> None:
                    async with slots:
                        try:
                            video = await client.videos.generate(model="p-video", prompt=f"soak {index % PROMPTS}",
                                                                 duration=1, aspect_ratio="1:1", draft=True)  # fmt: skip
                            path = await video.download(tmp_path / f"{index}.mp4")
                        except qv.QubridError as error:
                            outcomes[type(error).__name__] += 1
                        else:
                            outcomes["video"] += 1
                            saved.append((video.url, path))

                await asyncio.gather(*(one(i) for i in range(calls // 10)))
                warm = _rss_mib()
                await asyncio.gather(*(one(i) for i in range(calls // 10, calls)))
                return warm

        rss_warm = asyncio.run(run())
        rss_end = _rss_mib()
        emulator.clear_faults()
        served = {url: hashlib.sha256(httpx.get(url).content).digest() for url in {url for url, _ in saved}}
        generated = collections.Counter(e.idempotency_key for e in emulator.requests() if e.outcome == "generated")
    # Every call ended in a video or a documented exception (anything else would have escaped).
    assert sum(outcomes.values()) == calls
    assert outcomes["video"] >= calls * 0.8
    # Never two generations for one idempotency key.
    assert max(generated.values()) == 1
    # Every completed download is byte-identical to the served file.
    assert all(hashlib.sha256(path.read_bytes()).digest() == served[url] for url, path in saved)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for _, p in saved)  # no debris
    gc.collect()
    assert _open_fds() <= fds_before
    assert rss_end - rss_warm < 64, f"RSS grew {rss_end - rss_warm:.0f} MiB after warm-up"


def test_soak_light(tmp_path: Path) -> None:
    """400 generations with 10% mixed faults: the audit holds (the heavy variant runs 5,000)."""
    soak(400, tmp_path)


@pytest.mark.heavy
def test_soak_heavy(tmp_path: Path) -> None:
    """5,000 generations with 10% mixed faults: the audit holds."""
    soak(5000, tmp_path)
