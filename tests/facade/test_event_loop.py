"""The async paths leave the event loop free: their file work runs on worker threads, in order.

Whether the loop stalls is a matter of time, measured by ``bench/loop_stall.py``; what is tested
here is what makes it so, deterministically: on which thread each piece of file work ran.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import qubrid_video as qv
from qubrid_video import _media, _receive, _staging
from qubrid_video_emulator import Emulator

from ..media import jpeg


def _spy(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, seen: list[tuple[str, int]]) -> None:
    """Note the thread each call of ``owner.name`` runs on, in order, then make the call."""
    original: Callable[..., Any] = getattr(owner, name)

    def spied(*args: Any, **kwargs: Any) -> Any:
        seen.append((name, threading.get_ident()))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spied)


def test_async_upload_and_download_do_their_file_work_off_the_loop(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the upload, creating the file, each write, the fsync and the move all run off the loop's thread."""
    seen: list[tuple[str, int]] = []
    _spy(monkeypatch, _media, "_open_path", seen)
    _spy(monkeypatch, _staging, "_create_partial", seen)
    _spy(monkeypatch, _staging.Partial, "write", seen)
    _spy(monkeypatch, _staging.os, "fsync", seen)
    _spy(monkeypatch, _staging, "_place", seen)
    (tmp_path / "cat.jpg").write_bytes(jpeg())

    async def run() -> tuple[int, Path, str]:
        async with qv.AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            video = await client.videos.generate(model="p-video", prompt="a cat", image=tmp_path / "cat.jpg",
                                                 duration=1, draft=True)  # fmt: skip
            path = await video.download(tmp_path / "cat.mp4", progress=None)
            return threading.get_ident(), path, video.url

    loop_thread, path, url = asyncio.run(run())
    names = [name for name, _ in seen]
    assert names[:2] == ["_open_path", "_create_partial"]
    writes = names.count("write")
    assert writes >= 1
    assert names[2:] == ["write"] * writes + ["fsync", "_place"]  # in order, the fsync and move last
    assert all(thread != loop_thread for _, thread in seen), seen
    assert path.read_bytes() == httpx.get(url).content  # whole


def test_a_sync_download_still_writes_on_its_own_thread(
    client: qv.Qubrid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync path is unchanged: no worker thread, each write on the caller's thread."""
    seen: list[tuple[str, int]] = []
    _spy(monkeypatch, _staging.Partial, "write", seen)
    _spy(monkeypatch, _staging.os, "fsync", seen)
    video = client.videos.generate(model="p-video", prompt="a cat", duration=1, draft=True)
    video.download(tmp_path / "cat.mp4")
    assert seen
    assert {thread for _, thread in seen} == {threading.get_ident()}


def test_a_cancelled_async_download_leaves_no_file(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while a write runs on its thread, the download waits for it, then removes its file."""
    writing, release = threading.Event(), threading.Event()
    original = _staging.Partial.write

    def slow_write(self: _staging.Partial, chunk: bytes) -> None:
        writing.set()
        release.wait(30)
        original(self, chunk)

    monkeypatch.setattr(_staging.Partial, "write", slow_write)
    monkeypatch.setattr(_receive, "_BATCH", 1)  # each chunk its own batch: the first write is mid-download

    async def run() -> None:
        async with qv.AsyncQubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            video = await client.videos.generate(model="p-video", prompt="a cat", duration=1, draft=True)
            task = asyncio.create_task(video.download(tmp_path / "cat.mp4"))
            await asyncio.to_thread(writing.wait, 30)
            task.cancel()
            await asyncio.sleep(0)  # the cancellation reaches the task, which waits for the write
            assert not task.done()
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(run())
    assert os.listdir(tmp_path) == []  # neither the video nor its temporary file
