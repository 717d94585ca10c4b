"""How long the emulator takes to answer a 5 s 1080p generation, rendering fast or in full.

    python bench/emulator_render.py

For each mode, a fresh emulator answers: a first request (it renders), the same request again
(the render is reused), and one with another prompt (a full render draws the prompt, so it
renders again; a fast render depends on the shape only). Each time covers ``generate()`` and
reading the whole video. Then, as the pytest fixtures run it, 20 generations of 5 s 1080p with
distinct prompts, sequentially and four at a time. Timings are wall-clock, one run each: on a
busy machine, run it twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from qubrid_video import Qubrid
from qubrid_video_emulator import Emulator, EmulatorConfig


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _one(client: Qubrid, prompt: str) -> int:
    return len(client.videos.generate(model="p-video", prompt=prompt, resolution="1080p", duration=5).read())


def single(render: Literal["fast", "full"]) -> None:
    """First, repeated and new-prompt generation times for one render mode."""
    emulator = Emulator(EmulatorConfig(render=render))
    with emulator, Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        client.videos.generate(model="p-video", duration=1).read()  # warm-up: connections, the spec's validator
        first = _timed(lambda: _one(client, "A fox crossing a frozen lake"))
        again = _timed(lambda: _one(client, "A fox crossing a frozen lake"))
        other = _timed(lambda: _one(client, "A heron by a lake"))
    print(f"{render:>4}: first {first:6.3f} s   same request {again:6.3f} s   another prompt {other:6.3f} s")


def twenty() -> None:
    """20 distinct 5 s 1080p generations on a fast emulator, as the fixtures serve them."""
    prompts = [f"Shot {n} of a fox crossing a frozen lake" for n in range(20)]
    emulator = Emulator(EmulatorConfig(render="fast"))
    with emulator, Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        in_turn = _timed(lambda: [_one(client, prompt) for prompt in prompts])
        emulator.reset()  # the render stays cached, as it does between the fixture's tests
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = _timed(lambda: list(pool.map(lambda prompt: _one(client, prompt), prompts)))
    print(f"20 x 5 s 1080p, fast: {in_turn:.2f} s one after another (first render included), "
          f"{together:.2f} s four at a time (cached)")  # fmt: skip


if __name__ == "__main__":
    single("fast")
    single("full")
    twenty()
