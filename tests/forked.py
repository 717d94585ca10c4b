"""A script that forks workers which use clients made, and used, before the fork.

``python tests/forked.py BASE_URL API_KEY`` makes a ``Qubrid`` and an ``AsyncQubrid`` at the top
of the script, generates once with each (so each pools a kept-alive connection), then forks a
process pool whose workers generate with those same clients, and generates once more in the
parent. It prints one JSON object: every generation's process, prompt and request id.

It runs in a process of its own: a process that forks must have no other threads (the tests'
own process runs the emulator's), and a process pool with the "fork" method forks all its
workers before it starts any thread.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
from collections.abc import Coroutine
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from qubrid_video import AsyncQubrid, Qubrid

T = TypeVar("T")
SHORT: dict[str, Any] = {"model": "p-video", "duration": 1, "resolution": "720p", "fps": 24}
BASE_URL, API_KEY = sys.argv[1:3]
client = Qubrid(api_key=API_KEY, base_url=BASE_URL)
async_client = AsyncQubrid(api_key=API_KEY, base_url=BASE_URL)
_loop: tuple[int, asyncio.Runner] | None = None


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on this process's one event loop (an async client's connections belong to one loop)."""
    global _loop  # noqa: PLW0603 - one loop per process
    if _loop is None or _loop[0] != os.getpid():  # a forked child leaves its parent's loop alone
        _loop = (os.getpid(), asyncio.Runner())
    return _loop[1].run(work)


def generate(prompt: str) -> dict[str, object]:
    """One generation with the client made before the fork."""
    video = client.videos.generate(**SHORT, prompt=prompt)
    return {"pid": os.getpid(), "prompt": prompt, "request_id": video.request_id}


def agenerate(prompt: str) -> dict[str, object]:
    """One generation with the async client made before the fork, on an event loop of this process."""
    video = run(async_client.videos.generate(**SHORT, prompt=prompt))
    return {"pid": os.getpid(), "prompt": prompt, "request_id": video.request_id}


if __name__ == "__main__":
    made = [generate("parent before"), agenerate("async parent before")]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        jobs = [pool.submit(generate, f"child {i}") for i in range(2)]
        jobs += [pool.submit(agenerate, f"async child {i}") for i in range(2)]
        made += [job.result(timeout=60) for job in jobs]
    made += [generate("parent after"), agenerate("async parent after")]
    client.close()
    run(async_client.aclose())
    print(json.dumps({"parent": os.getpid(), "made": made}))
