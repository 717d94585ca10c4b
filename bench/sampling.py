"""One sample per fresh process, so run.py can interleave a figure with its baseline and report a spread.

    python bench/sampling.py per-call URL CALLS    # {"variant": CPU seconds per call, ...} as JSON
    python bench/sampling.py emulator              # {"start_s": ..., "stop_s": ...} of one Emulator()

Per-call variants run interleaved, best of three rounds, after a warm-up; openai-python is
left out when it is not installed (it lives in the bench venv only).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

BODY = {"model": "p-video", "prompt": "A butterfly flying through a flower garden"}


def _cpu_per_call(call: Callable[[], Any], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def per_call(base_url: str, calls: int) -> dict[str, float]:
    """Client CPU per call of each variant against an instant server, best of three interleaved rounds."""
    # Imported here, not at the top: the emulator sample times its own import apart from these.
    import httpx  # noqa: PLC0415
    import qubrid_video as qv  # noqa: PLC0415
    from qubrid_video_api_client import AuthenticatedClient  # noqa: PLC0415
    from qubrid_video_api_client.api.videos import create_video  # noqa: PLC0415
    from qubrid_video_api_client.models import VideoGenerationRequest  # noqa: PLC0415

    raw = httpx.Client()
    url, auth = base_url + "/videos/generations", {"Authorization": "Bearer k"}
    generated = AuthenticatedClient(base_url=base_url, token="k")  # noqa: S106 - a dummy key for the loopback server
    sdk = qv.Qubrid(api_key="k", base_url=base_url)
    validating = qv.Qubrid(api_key="k", base_url=base_url, validate_responses=True)
    variants: dict[str, Callable[[], Any]] = {
        "raw httpx": lambda: raw.post(url, json=BODY, headers=auth).json(),
        "generated client": lambda: create_video.sync_detailed(client=generated, body=VideoGenerationRequest(**BODY)),
        "qubrid_video": lambda: sdk.videos.generate(**BODY),
        "qubrid_video + validation": lambda: validating.videos.generate(**BODY),
    }
    try:
        import openai  # noqa: PLC0415
    except ImportError:
        pass
    else:
        peer = openai.OpenAI(api_key="k", base_url=base_url)
        variants["openai images.generate"] = lambda: peer.images.generate(model="p-video", prompt=BODY["prompt"])
    for call in variants.values():
        for _ in range(50):
            call()
    best: dict[str, float] = {}
    for _ in range(3):
        for name, call in variants.items():
            best[name] = min(best.get(name, float("inf")), _cpu_per_call(call, calls))
    return best


def emulator() -> dict[str, float]:
    """Seconds to build and start (until it accepts connections) and to stop one `Emulator()`, after the import."""
    from qubrid_video_emulator import Emulator  # noqa: PLC0415

    started = time.perf_counter()
    emulator_ = Emulator().start()
    running = time.perf_counter()
    emulator_.stop()
    return {"start_s": running - started, "stop_s": time.perf_counter() - running}


def main() -> None:
    """Take the sample named on the command line and print it."""
    kind = sys.argv[1]
    if kind == "per-call":
        print(json.dumps(per_call(sys.argv[2], int(sys.argv[3]))))
    elif kind == "emulator":
        print(json.dumps(emulator()))
    else:
        raise SystemExit(f"unknown sample {kind!r}: per-call or emulator")


if __name__ == "__main__":
    main()
