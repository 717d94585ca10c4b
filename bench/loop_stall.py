"""The worst stall of an event loop while an async download saves a large video on it.

    python bench/loop_stall.py [MIB]
A 5 ms ticker task runs on the loop while ``AsyncVideo.download`` saves MIB (default 256) MiB
from the lean bench server; prints {"worst_gap_ms": ..., "seconds": ...} as JSON. The gap is
the ticker's longest interval minus its 5 ms period: how long the loop was held by something else.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import qubrid_video as qv

HERE = Path(__file__).resolve().parent
PERIOD = 0.005


async def _tick(gaps: list[float], stop: asyncio.Event) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(PERIOD)
        now = time.perf_counter()
        gaps.append(now - last - PERIOD)
        last = now


async def _measure(url: str, dest: Path) -> tuple[float, float]:
    # The client is made before the ticker starts: making one loads the CA bundle (about 20-40 ms,
    # as any httpx client does), which is not the download's doing (`construction` times it).
    async with qv.AsyncQubrid(api_key="k", base_url="http://127.0.0.1:9/v1") as client:
        gaps: list[float] = []
        stop = asyncio.Event()
        ticker = asyncio.create_task(_tick(gaps, stop))
        await asyncio.sleep(0.05)  # the ticker is running
        started = time.perf_counter()
        await qv.AsyncVideo(url, None, None, None, client.downloader).download(dest, overwrite=True)
        seconds = time.perf_counter() - started
        stop.set()
        await ticker
    return max(gaps), seconds


def main() -> None:
    """Serve a file of random bytes, download it under the ticker, report the worst gap."""
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.bin"
        with big.open("wb") as handle:
            for _ in range(mib // 16):
                handle.write(os.urandom(16 << 20))
        args = [sys.executable, str(HERE / "server.py"), "--hold", "0", "--file", str(big)]
        with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as server:
            try:
                assert server.stdout is not None
                port = int(server.stdout.readline())
                url = f"http://127.0.0.1:{port}/files/big.mp4"
                worst, seconds = asyncio.run(_measure(url, Path(tmp) / "out.mp4"))
            finally:
                server.kill()
    print(json.dumps({"worst_gap_ms": round(worst * 1000, 1), "seconds": round(seconds, 2), "mib": mib}))


if __name__ == "__main__":
    main()
