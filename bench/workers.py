"""One measured operation per process, so peak RSS belongs to that operation alone.

    python bench/workers.py upload-raw|upload-sdk|download-raw|download-raw+fsync|download-curl|download-sdk URL FILE
Each download writes FILE anew (run.py deletes it between runs). Prints {"seconds": ..., "rss_growth_mib": ...} as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import httpx
import qubrid_video as qv


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    # VmHWM is this process's own high-water mark; ru_maxrss would include the forking parent's.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    """Run the named operation and report its time and peak memory growth."""
    kind, url, file = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    baseline = _rss_mib()
    started = time.perf_counter()
    if kind == "upload-raw":
        with httpx.Client(timeout=600) as client, file.open("rb") as handle:
            client.post(url + "/videos/generations", data={"model": "p-video"},
                        files={"image_file": ("big.png", handle, "image/png")}, headers={"Authorization": "Bearer k"})  # fmt: skip
    elif kind == "upload-sdk":
        with qv.Qubrid(api_key="k", base_url=url) as client:
            client.videos.generate(model="p-video", image=file)
    elif kind.startswith("download-raw"):
        with httpx.Client(timeout=600) as client, client.stream("GET", url) as answer, file.open("wb") as out:
            for chunk in answer.iter_raw():
                out.write(chunk)
            if kind == "download-raw+fsync":
                out.flush()
                os.fsync(out.fileno())
    elif kind == "download-curl":
        subprocess.run(["curl", "--silent", "--show-error", "--fail", "--output", str(file), url], check=True)
    elif kind == "download-sdk":
        with qv.Qubrid(api_key="k", base_url="http://127.0.0.1:9/v1") as client:
            qv.Video(url, None, None, None, downloader=client.downloader).download(file, overwrite=True)
    seconds = time.perf_counter() - started
    peak = _peak_mib()
    print(json.dumps({"seconds": seconds, "rss_growth_mib": max(0.0, peak - baseline)}))


if __name__ == "__main__":
    main()
