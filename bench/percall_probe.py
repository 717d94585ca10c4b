"""Per-call client CPU of qubrid_video against raw httpx, interleaved, in several processes.

Each worker process alternates rounds of 500 calls (raw httpx, qubrid_video, and with --val the
validating client) against the lean bench server and keeps each variant's best round; the ratio
is reported as mean ± standard deviation over the processes.

    python bench/percall_probe.py 6 --val
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
BODY = {"model": "p-video", "prompt": "A butterfly flying through a flower garden"}


def worker(base_url: str, calls: int, rounds: int, validation: bool) -> None:
    """Print each variant's best CPU seconds per call, as JSON."""
    import qubrid_video as qv  # noqa: PLC0415 - imported by the worker alone

    raw = httpx.Client()
    url, auth = base_url + "/videos/generations", {"Authorization": "Bearer k"}
    sdk = qv.Qubrid(api_key="k", base_url=base_url)
    validating = qv.Qubrid(api_key="k", base_url=base_url, validate_responses=True)
    variants: dict[str, Callable[[], Any]] = {
        "raw": lambda: raw.post(url, json=BODY, headers=auth).json(),
        "sdk": lambda: sdk.videos.generate(**BODY),
    }
    if validation:
        variants["val"] = lambda: validating.videos.generate(**BODY)
    for call in variants.values():
        for _ in range(100):
            call()
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            started = time.process_time()
            for _ in range(calls):
                call()
            results[name].append((time.process_time() - started) / calls)
    print(json.dumps({name: min(times) for name, times in results.items()}))


def main() -> None:
    """Start the lean server, run the workers one after another, print each ratio with its spread."""
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    validation = "--val" in sys.argv
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--hold", "0"], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    base = f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
    try:
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--worker", base, str(int(validation))],
                    capture_output=True, text=True, check=True,
                ).stdout
            )
            for _ in range(processes)
        ]  # fmt: skip
    finally:
        server.kill()
    floor = statistics.mean(run["raw"] for run in runs)
    for name in runs[0]:
        if name == "raw":
            continue
        ratios = [run[name] / run["raw"] for run in runs]
        mean = statistics.mean(run[name] for run in runs)
        print(f"{name}: {mean * 1e6:.0f} us vs raw {floor * 1e6:.0f} us; ratio {statistics.mean(ratios):.3f}"
              f" ± {statistics.stdev(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)})")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], 500, 5, sys.argv[3] == "1")
    else:
        main()
