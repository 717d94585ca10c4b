"""Construction cost of `Qubrid()` and `AsyncQubrid()`, each measured in fresh processes, interleaved.

    python bench/construction.py [RUNS]
Prints {"sync_ms": [...], "async_ms": [...]} as JSON: one figure per fresh process, in run order.
With ``--one sync|async`` it is that fresh process: it imports the SDK (not timed), times one
construction and prints milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def one(kind: str) -> float:
    """Milliseconds to construct (and close) one client of `kind` in this process, after the import."""
    import qubrid_video as qv  # noqa: PLC0415 - the import is not what is timed

    started = time.perf_counter()
    client = qv.Qubrid(api_key="k") if kind == "sync" else qv.AsyncQubrid(api_key="k")
    elapsed = time.perf_counter() - started
    del client
    return elapsed * 1000


def sample(runs: int) -> dict[str, list[float]]:
    """`runs` fresh processes of each kind, alternating, so machine noise falls on both alike."""
    out: dict[str, list[float]] = {"sync_ms": [], "async_ms": []}
    for _ in range(runs):
        for kind in ("sync", "async"):
            done = subprocess.run([sys.executable, __file__, "--one", kind], capture_output=True, text=True, check=True)
            out[f"{kind}_ms"].append(float(done.stdout))
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(one(sys.argv[2]))
    else:
        print(json.dumps(sample(int(sys.argv[1]) if len(sys.argv) > 1 else 15)))
