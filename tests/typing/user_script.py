"""A user's script, type-checked (never run) by `make lint` with mypy --strict and basedpyright.

The first half uses the emulator and the SDK as the README shows: both checkers must accept it.
The second half makes calls a type checker must flag. Each carries both ignore comments, with the
exact error code; mypy (warn_unused_ignores, part of --strict) and basedpyright
(reportUnnecessaryTypeIgnoreComment, see pyrightconfig.json beside this file) report an ignore
that no longer suppresses anything, so `make lint` fails the day a wrong call stops being flagged.
Not named test_*: pytest does not collect it.
"""

from __future__ import annotations

import io
import typing
from pathlib import Path

import qubrid_video
from qubrid_video import AspectRatio, AsyncQubrid, AsyncVideo, MediaInput, Progress, Qubrid, Resolution, Timeout, Video
from qubrid_video_emulator import Emulator, EmulatorConfig


def report(done: int, total: int | None) -> None:
    print(done, total)


def right(out: Path) -> Path:
    with (
        Emulator(EmulatorConfig(latency=0.0, models={"p-video", "x"}, drift={"created_string"})) as emulator,
        Qubrid(api_key=emulator.api_key, base_url=emulator.base_url, timeout=60) as client,
    ):
        image: MediaInput = ("cat.png", io.BytesIO(b"\x89PNG"), "image/png")
        video: Video = client.videos.generate(
            model="p-video",
            prompt="A butterfly",
            resolution="1080p",
            aspect_ratio="9:16",
            fps=24,
            duration=5,
            image=image,
            audio=Path("music.mp3"),
        )
        client.videos.generate(model="a-model-newer-than-the-sdk", resolution=typing.cast(Resolution, "1440p"))
        quick = client.with_options(max_retries=0, timeout=Timeout(total=30), api_key=None)
        quick.videos.generate(model="p-video", aspect_ratio=typing.cast(AspectRatio, "21:9"), image=b"\xff\xd8\xff")
        progress: Progress = report
        return video.download(out, overwrite=True, progress=progress, max_bytes=2**30)


async def right_async(out: str) -> Path:
    async with AsyncQubrid(api_key="sk-test", validate_responses="strict") as client:
        with open(out, "rb") as image:
            video: AsyncVideo = await client.videos.generate(model="p-video", image=image)
        return await video.download(out, progress=lambda done, total: None)


choices: tuple[qubrid_video.Model, Resolution, AspectRatio] = ("p-video", "720p", "16:9")
# What a test double raises, as the SDK would.
limited = qubrid_video.RateLimitError("slow down", status_code=429, retry_after=2.0, code="rate_limited")


def wrong(client: Qubrid) -> None:
    client.videos.generate(model="p-video", resolution="4k")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.videos.generate(model="p-video", aspect_ratio="banana")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.videos.generate(model="p-video", image=123)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.videos.generate(model="p-video", audio=object())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.videos.generate(model="p-video", image=("a.png", 123, "image/png"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.with_options(max_retries="lots")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.with_options(nonsense=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    client.with_options(http_client=None)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    qubrid_video.RateLimitError("slow down", status_code=429, nonsense=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Video(url="u", created=None, request_id=None).download(3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
