"""Rendered videos on disk, cached by what they show, rendered at most once at a time per content.

Each generation still gets a URL of its own, as from the real API: its name is an alias of the
cached file, so an app that tells generations apart by URL behaves under test as in production.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from ._render import RenderJob, render
from ._render_fast import render_fast

_NAME = re.compile(r"^[0-9a-f]{32}\.mp4$")


@attrs.frozen
class StoredVideo:
    """A finished video file and the validators it is served with."""

    name: str
    path: Path
    size: int
    etag: str


def _cache_key(job: RenderJob) -> str:
    digest = hashlib.sha256()
    for name, value in job.cache_fields().items():
        shown = hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else value
        digest.update(f"{name}={shown!r}\n".encode())
    return digest.hexdigest()[:32]


class VideoStore:
    """Renders in a thread pool so the event loop never blocks; identical jobs share one render."""

    def __init__(self, root: Path, workers: int) -> None:
        self.root = root
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qubrid-render")
        self._done: dict[str, StoredVideo] = {}
        self._pending: dict[str, asyncio.Future[StoredVideo]] = {}
        self._aliases: dict[str, str] = {}  # a generation's own file name -> the cache key of its render

    async def get_or_render(self, job: RenderJob) -> StoredVideo:
        """Return the video for `job` under a name of its own, rendering it first unless an identical one exists."""
        video = await self._get_or_render(job)
        alias = secrets.token_hex(16)
        self._aliases[alias] = _cache_key(job)
        return attrs.evolve(video, name=f"{alias}.mp4")

    async def _get_or_render(self, job: RenderJob) -> StoredVideo:
        key = _cache_key(job)
        done = self._done.get(key)
        # A file deleted behind the emulator's back (a test rehearsing an expired link) is rendered again.
        if done is not None and done.path.exists():
            return done
        if key not in self._pending:
            self._pending[key] = asyncio.ensure_future(self._render(key, job))
        try:
            return await asyncio.shield(self._pending[key])
        finally:
            if self._pending.get(key) is not None and self._pending[key].done():
                del self._pending[key]

    async def _render(self, key: str, job: RenderJob) -> StoredVideo:
        path = self.root / f"{key}.mp4"
        await asyncio.get_running_loop().run_in_executor(self._pool, render_fast if job.fast else render, job, path)
        etag = await asyncio.get_running_loop().run_in_executor(self._pool, _file_etag, path)
        video = StoredVideo(name=path.name, path=path, size=path.stat().st_size, etag=etag)
        self._done[key] = video
        return video

    def lookup(self, name: str) -> StoredVideo | None:
        """The video a generation was given as `name`, if any; any other name (``..``, slashes) finds nothing."""
        if not _NAME.match(name):
            return None
        key = self._aliases.get(name.removesuffix(".mp4"))
        video = self._done.get(key) if key is not None else None
        # A render deleted behind the emulator's back (a test rehearsing an expired link) is gone.
        return video if video is not None and video.path.exists() else None

    def close(self) -> None:
        """Stop the render threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _file_etag(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f'"{digest.hexdigest()[:32]}"'
